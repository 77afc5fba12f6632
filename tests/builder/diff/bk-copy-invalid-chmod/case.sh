# BuildKit's testCopyInvalidChmod: its words.
EXPECT_FAIL="invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777"
