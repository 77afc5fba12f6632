# HEALTHCHECK NONE disables an inherited check: Test ["NONE"].
check() { cfg .Healthcheck '{"Test":["NONE"]}'; }
