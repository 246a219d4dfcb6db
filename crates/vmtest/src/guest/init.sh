#!/bin/busybox sh
# spindle-vmtest guest init (PID 1): mount the kernel filesystems, load the test's modules, run
# the test script, print VMTEST DONE and power off. Written by crates/vmtest; see docs/vm.md.
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run /mnt /root
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
exec </dev/null >/dev/console 2>&1
. /vmtest/lib.sh
echo "VMTEST BOOT $(uname -r)"
vmtest_load_modules /vmtest/modules
( cd / && . /vmtest/test.sh )
rc=$?
[ "$rc" = 0 ] || vmtest_fail script "the test script exited with $rc"
echo "VMTEST DONE"
# scripts/vm/boot adds vmtest.shell: a shell on the console before powering off.
if grep -qw vmtest.shell /proc/cmdline; then
  exec </dev/console
  setsid cttyhack sh
fi
sync
poweroff -f
