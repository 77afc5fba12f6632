# COPY --link (testCopyLinkDotDestDir): the same files as a plain COPY;
# what was there stays.
BUILDAH_FAILS='buildah 1.28 has no COPY --link'
check() { content /var/www/testfile contents0; content /var/www/copy2 contents0; content /linked/l l; content /var/www/old old; }
