# WORKDIR under USER by ids (not in /etc/passwd: used as they are), by a
# uid alone (its gid is the uid: llb.WithUser -> ChownOpt, resolved in
# solver/llbsolver/file/user_linux.go readUser, UserOpt_ByID sets both),
# and by names; existing directories keep their owner.  buildah creates
# WORKDIR as root.
ALLOW=('^/(w|n)[ /]')
check() {
  entry /w 'd 755 1234 2345'
  entry /w/a/b 'd 755 1234 2345'
  entry /w/a/b/c 'd 755 1000 1000'
  entry /n 'd 755 1000 65534'
}
