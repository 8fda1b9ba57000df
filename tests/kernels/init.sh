#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# /init of the kernel runner's initramfs (tests/kernels/run.sh builds it):
# busybox, the booted kernel's own virtio/9p/overlay modules (modules/order,
# dependencies first) and this script. It mounts the host's root, shared
# read-only over 9p, under a tmpfs overlay, binds the kernel's unpacked
# modules to /lib/modules/VERSION there, mounts the writable results share and
# switches root to run tests/kernels/guest.sh. Its parameters come from the
# kernel command line:
#   dicomon.repo=DIR      the repository (same path on host and guest)
#   dicomon.kdir=DIR      where the kernel package was unpacked (host path)
#   dicomon.suite=NAME    what guest.sh runs (probe: only say we booted)
# With panic=-1 and qemu's -no-reboot, anything that ends PID 1 ends qemu.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
REPO=$(arg dicomon.repo)
KDIR=$(arg dicomon.kdir)
SUITE=$(arg dicomon.suite)
KVER=$(uname -r)

if [ "$SUITE" = probe ]; then
	echo "dicomon-kernel-probe: booted $KVER"
	poweroff -f
fi

for m in $(cat /modules/order); do
	insmod "/modules/$m" || echo "init: insmod $m failed"
done
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=1048576,cache=loose hostroot /lower ||
	{ echo "init: cannot mount the host's root over 9p"; poweroff -f; }
mount -t tmpfs -o size=75% tmpfs /upper
mkdir -p /upper/up /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/up,workdir=/upper/work /newroot ||
	{ echo "init: overlay mount failed"; poweroff -f; }
mkdir -p "/newroot/lib/modules/$KVER" /newroot/dicomon-results
mount -o bind "/newroot$KDIR/lib/modules/$KVER" "/newroot/lib/modules/$KVER"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576 results /newroot/dicomon-results ||
	{ echo "init: cannot mount the results share"; poweroff -f; }
for d in proc sys dev; do
	mount --move "/$d" "/newroot/$d"
done
exec switch_root /newroot /bin/bash "$REPO/tests/kernels/guest.sh" "$SUITE"
