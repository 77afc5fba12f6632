# COPY --from an image reference, not a stage (toCommand: an unknown name
# is an image, llb.Image): its files, modes and owners.
check() { entry /bin/busybox 'f 755 0 0'; entry /etc/passwd 'f 644 0 0'; }
