# ADD takes no --from (instructions/parse.go parseAdd declares chown,
# chmod, link, keep-git-dir, checksum, unpack, exclude; BFlags.Parse:
# "unknown flag: from").  The builder refuses it from the same table the
# analysis reports with (model/flags.h), before any step runs.
EXPECT_FAIL='unknown flag: from'
