# RUN --mount=type=secret: the secret's bytes at /run/secrets/<id> or a
# target, with mode and uid; an optional secret not given is no error; no
# byte of it and no mount point left in the layers (MountStubsCleaner).
# The secret file lives outside the context.  buildah leaves the
# /run/secrets directory it made.
ALLOW=('^/run/secrets d ')
printf 'top secret value\n' > "$T/secret-$N.txt"
ARGS=(--secret "id=tok,src=$T/secret-$N.txt")
check() {
  content /secret-size 17
  content /secret-stat '440 1000'
  absent /run/secrets
  absent /etc/tok
  if grep -rqa 'top secret' "$DW_ROOT" 2>/dev/null; then fail "the secret is in the image"; fi
}
