. "$TOP_SRCDIR/tests/tap.sh"
tap_done
