# ADD takes no --parents (only COPY does: instructions/parse.go
# parseCopy); refused with its line before anything runs.
EXPECT_FAIL='Dockerfile:3: unknown flag: parents'
