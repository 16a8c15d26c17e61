. "$TOP_SRCDIR/tests/tap.sh"; ok 0 placeholder; tap_done
