# BuildKit's testCopyInvalidChmod, the second half: out of range.
EXPECT_FAIL="invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777"
BUILDAH_SKIP='buildah 1.28 accepts --chmod=10000 (BuildKit refuses a mode above 07777)'
