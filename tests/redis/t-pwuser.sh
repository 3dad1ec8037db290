# Started as root, the daemon read redis_password_file as root; every
# reload reads it as the run user.  A file only root may read (0600
# root:root) was taken at start, and then every reload failed, map
# changes included ("reload failed; the configuration and map in force
# stay").  Now the start reads it once more as the run user and stops
# there (exit 78, the file and line named); a file the run user's group
# may read (0640 root:GROUP, as the docs say) starts and reloads.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
grp=$(id -gn nobody 2>/dev/null)
if [ -z "$grp" ] || ! redis_start "$T/r" --requirepass pw1; then
	for c in pwuser-refused pwuser-reloads; do fail "redis/$c" "no user nobody or no redis"; done
	exit 0
fi
(umask 077; echo pw1 > "$T/pw-root"; echo pw1 > "$T/pw-group")
chgrp "$grp" "$T/pw-group" && chmod 0640 "$T/pw-group"
gone() { ! kill -0 "$(cat "$1/pid")" 2>/dev/null; }

mrl_start "$T/a" "redis = \"unix:$REDIS_SOCK\"" "redis_password_file = \"$T/pw-root\"" \
    'user = "nobody"'
if wait_for 10 gone "$T/a" &&
    grep -q "conf:8: redis_password_file: .*Permission denied (read as user nobody" "$T/a/log"; then
	pass redis/pwuser-refused
else
	fail redis/pwuser-refused "$(tail -n 3 "$T/a/log" | tr '\n' ' ')"
fi

mrl_start "$T/b" "redis = \"unix:$REDIS_SOCK\"" "redis_password_file = \"$T/pw-group\"" \
    'user = "nobody"'
mrl_signal "$T/b" USR1
if wait_for 10 grep -q 'SIGUSR1: reloading' "$T/b/log" &&
    wait_for 10 grep -Eq 'reloaded configuration|reload failed' "$T/b/log" && ! gone "$T/b" &&
    ! grep -q 'reload failed' "$T/b/log" &&
    ! grep -q 'redis_password_file' "$T/b/log"; then
	pass redis/pwuser-reloads
else
	fail redis/pwuser-reloads "$(tail -n 3 "$T/b/log" | tr '\n' ' ')"
fi
