# Labels are inherited from the base stage and overridden by key.
check() { cfg .Labels '{"a":"1","b":"2","c":"3"}'; }
