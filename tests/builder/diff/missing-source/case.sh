# A plain source path that does not exist fails the build (only
# wildcards may match nothing: AllowEmptyWildcard covers wildcards).
EXPECT_FAIL='missing\.txt.*not found|not found.*missing\.txt'
