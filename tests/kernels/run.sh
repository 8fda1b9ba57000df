#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Boot Debian's own kernels under qemu and run dicomon's kernel suite in each.
#
#   tests/kernels/run.sh [-k SERIES]... [-s SUITE] [-o OUTDIR] [--accel auto|kvm|tcg]
#
#   -k SERIES   a kernel series Debian packages ("6.1", "6.12") or an exact
#               ABI ("6.1.0-57-amd64"); repeatable. Default: every series of
#               linux-image-*-amd64-unsigned that apt knows, newest ABI each
#               ($KERNELS, space-separated, does the same).
#   -s SUITE    what runs inside (tests/kernels/guest.sh): ci (default:
#               version, BPF tests, replay of every committed capture, live
#               associations through XDP and TC, the three-capability mode),
#               full (ci + more e2e scripts), or STEP,STEP...
#   -o OUTDIR   results (default .output/kernels/results); OUTDIR/KERNEL/ per
#               kernel, OUTDIR/summary.md the table, OUTDIR/host/ the
#               reference replay output of the running kernel
#   --accel     qemu accelerator; auto tries KVM with a probe boot and falls
#               back to TCG (-accel tcg,thread=multi -cpu max)
#
# Per kernel: `apt-get download` of linux-image-ABI-unsigned into
# .output/kernels/debs (kept between runs), `dpkg-deb -x` (nothing is
# installed, no bootloader is touched), `depmod -b`, an initramfs of
# busybox-static and the kernel's own virtio/9p/overlay modules
# (tests/kernels/init.sh), then qemu with this machine's root shared read-only
# over 9p under a tmpfs overlay and OUTDIR/KERNEL shared writable. Needs
# root, the build (make, make -C . .output/tests/test_bpf) and
# scripts/install-deps.sh's packages (qemu-system-x86, busybox-static, kmod,
# cpio). Exit 0 if every step passed on every kernel and every replay record
# equals the host's; 1 otherwise; 2 on usage or set-up errors.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUTPUT=${OUTPUT:-$REPO/.output}
KCACHE=${KCACHE:-$OUTPUT/kernels}
OUT=$KCACHE/results
SUITE=${DM_KERNEL_SUITE:-ci}
ACCEL=${DM_QEMU_ACCEL:-auto}
TIMEOUT=${DM_KERNEL_TIMEOUT:-900}
MEM=${DM_QEMU_MEM:-3G}
SERIES=()

usage() {
	sed -n '/^# Boot Debian/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}
log() { printf '[kernels %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

while (($#)); do
	case $1 in
		-k) SERIES+=("${2:?}"); shift ;;
		-s) SUITE=${2:?}; shift ;;
		-o) OUT=${2:?}; shift ;;
		--accel) ACCEL=${2:?}; shift ;;
		-h | --help) usage ;;
		*) echo "run.sh: unknown argument $1" >&2; usage ;;
	esac
	shift
done
((${#SERIES[@]})) || read -ra SERIES <<<"${KERNELS:-}"
[[ $ACCEL == auto || $ACCEL == kvm || $ACCEL == tcg ]] || usage
((EUID == 0)) || die "needs root (apt-get download into the cache, 9p with security_model=none)"
for t in qemu-system-x86_64 dpkg-deb depmod cpio apt-get python3; do
	command -v "$t" >/dev/null || die "missing $t (scripts/install-deps.sh installs it)"
done
[[ -x /bin/busybox ]] || die "missing /bin/busybox (busybox-static)"
[[ -x $OUTPUT/dicomon && -x $OUTPUT/tests/test_bpf && -x $OUTPUT/tests/test_evasion &&
	-x $OUTPUT/tests/test_tables ]] ||
	die "build first: make && make $OUTPUT/tests/test_bpf $OUTPUT/tests/test_evasion" \
		"$OUTPUT/tests/test_tables"
mkdir -p "$KCACHE/debs" "$OUT"
OUT=$(cd "$OUT" && pwd)

# ---- which kernels: the newest ABI of each series apt offers
# Debian names them linux-image-6.1.0-57-amd64-unsigned and
# linux-image-6.12.118+deb12-amd64-unsigned: the series is the first two numbers.
available() {
	apt-cache search --names-only '^linux-image-[0-9].*-amd64-unsigned$' |
		awk '{print $1}' | sed -e 's/^linux-image-//' -e 's/-unsigned$//' |
		grep -Ev -e '-(cloud|rt)-amd64$' | sort -V
}
ABIS=()
mapfile -t AVAIL < <(available)
((${#AVAIL[@]})) || die "apt knows no linux-image-*-amd64-unsigned package (apt-get update?)"
if ((${#SERIES[@]} == 0)); then
	mapfile -t SERIES < <(printf '%s\n' "${AVAIL[@]}" | cut -d. -f1,2 | sort -uV)
fi
for s in "${SERIES[@]}"; do
	if printf '%s\n' "${AVAIL[@]}" | grep -qxF -- "$s"; then
		ABIS+=("$s")
		continue
	fi
	abi=$(printf '%s\n' "${AVAIL[@]}" | awk -v s="$s" 'index($0, s ".") == 1' | tail -n 1)
	[[ -n $abi ]] || die "no Debian kernel package of series $s (known: $(printf '%s ' "${AVAIL[@]}"))"
	ABIS+=("$abi")
done
log "kernels: ${ABIS[*]}"

# ---- fetch and unpack
# unpack ABI: KCACHE/ABI/{boot,lib/modules} with modules.dep; prints the dir
unpack() {
	local abi=$1 dir=$KCACHE/$1 deb
	if [[ ! -f $dir/.unpacked ]]; then
		deb=$(ls "$KCACHE"/debs/linux-image-"$abi"-unsigned_*.deb 2>/dev/null | tail -n 1 || true)
		if [[ -z $deb ]]; then
			log "apt-get download linux-image-$abi-unsigned"
			(cd "$KCACHE/debs" && apt-get download -q "linux-image-$abi-unsigned" >/dev/null 2>&1) ||
				(cd "$KCACHE/debs" && apt-get download "linux-image-$abi-unsigned") >&2 ||
				die "apt-get download linux-image-$abi-unsigned failed"
			deb=$(ls "$KCACHE"/debs/linux-image-"$abi"-unsigned_*.deb | tail -n 1)
		fi
		rm -rf "$dir"
		dpkg-deb -x "$deb" "$dir"
		depmod -b "$dir" "$abi"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

# initramfs ABI DIR: busybox + the modules init.sh loads, decompressed; prints the path
initramfs() {
	local abi=$1 dir=$2 root=$KCACHE/initramfs-$1 img=$KCACHE/initramfs-$1.cpio.gz m b
	local md=$dir/lib/modules/$abi
	rm -rf "$root"
	mkdir -p "$root"/{bin,modules,proc,sys,dev}
	cp /bin/busybox "$root/bin/busybox"
	install -m 0755 "$HERE/init.sh" "$root/init"
	: >"$root/modules/order"
	# virtio_pci is built in on 6.12 and a module on 6.1: take what is there.
	while read -r m; do
		b=$(basename "$m")
		case $b in
			*.ko.xz) xz -dc "$md/$m" >"$root/modules/${b%.xz}"; b=${b%.xz} ;;
			*.ko.zst) zstd -qdc "$md/$m" >"$root/modules/${b%.zst}"; b=${b%.zst} ;;
			*.ko.gz) gzip -dc "$md/$m" >"$root/modules/${b%.gz}"; b=${b%.gz} ;;
			*) cp "$md/$m" "$root/modules/$b" ;;
		esac
		echo "$b" >>"$root/modules/order"
	done < <(python3 "$HERE/moddeps.py" "$md" virtio_pci 9pnet_virtio 9p overlay)
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$img"
	echo "$img"
}

# boot ABI DIR IMG SUITE RESULTS ACCEL : one qemu run; the console goes to RESULTS/console.log
boot() {
	local abi=$1 dir=$2 img=$3 suite=$4 res=$5 accel=$6 tmo=$7 acc
	if [[ $accel == kvm ]]; then
		acc=(-accel kvm -cpu host)
	else
		acc=(-accel tcg,thread=multi -cpu max)
	fi
	mkdir -p "$res"
	timeout --kill-after=10 "$tmo" qemu-system-x86_64 "${acc[@]}" -smp 2 -m "$MEM" \
		-nographic -no-reboot -nic none \
		-kernel "$dir/boot/vmlinuz-$abi" -initrd "$img" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 dicomon.repo=$TREE dicomon.kdir=$dir dicomon.suite=$suite" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$res,mount_tag=results,security_model=none" \
		</dev/null >"$res/console.log" 2>&1
}

# ---- the host's reference: the same replay on the running kernel
host_reference() {
	local ref=$OUT/host cap name
	rm -rf "$ref"
	mkdir -p "$ref/replay"
	uname -r >"$ref/kernel"
	for cap in "$REPO"/tests/replay/captures/*.pcap "$REPO"/tests/replay/captures/*.pcapng; do
		name=$(basename "${cap%.*}")
		(cd "$TREE" && ./.output/dicomon replay --json --eve "$ref/replay/$name.eve.json" \
			"tests/replay/captures/$(basename "$cap")" >"$ref/replay/$name.jsonl" 2>"$ref/replay/$name.err") ||
			die "host replay of $name failed: $(tail -n 1 "$ref/replay/$name.err")"
	done
	"$TREE/.output/dicomon" version --json >"$ref/version.json" 2>/dev/null || true
}

choose_accel() {
	local abi=$1 dir=$2 img=$3
	[[ $ACCEL != auto ]] && { echo "$ACCEL"; return; }
	if [[ -w /dev/kvm ]]; then
		rm -rf "$OUT/.probe"
		if boot "$abi" "$dir" "$img" probe "$OUT/.probe" kvm 60 &&
			grep -q 'dicomon-kernel-probe: booted' "$OUT/.probe/console.log"; then
			echo kvm
			return
		fi
		log "KVM cannot boot $abi here ($(grep -m1 -iE 'error|fail' "$OUT/.probe/console.log" | cut -c1-120)): TCG"
	fi
	echo tcg
}

# The guests run a copy of the tree as it is now (the build included), so
# that editing or rebuilding the checkout during a run changes nothing.
snapshot() {
	local snap=$KCACHE/tree
	rm -rf "$snap"
	mkdir -p "$snap"
	# The checkout's files (tracked, and new ones git does not ignore), not
	# whatever else lies in the directory (other build or result trees).
	if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$REPO" ls-files -z --cached --others --exclude-standard |
			(cd "$REPO" && xargs -0 -r stat --printf '%n\0' 2>/dev/null) |
			tar -C "$REPO" --null -T - -cf - | tar -C "$snap" -xf -
	else
		tar -C "$REPO" --exclude=./.git --exclude='./.output*' -cf - . | tar -C "$snap" -xf -
	fi
	mkdir -p "$snap/.output"
	tar -C "$OUTPUT" --exclude=./kernels -cf - . | tar -C "$snap/.output" -xf -
	echo "$snap"
}

TREE=$(snapshot)
host_reference
FAILED=0
declare -A ACCEL_OF
for abi in "${ABIS[@]}"; do
	dir=$(unpack "$abi")
	img=$(initramfs "$abi" "$dir")
	accel=$(choose_accel "$abi" "$dir" "$img")
	ACCEL_OF[$abi]=$accel
	res=$OUT/$abi
	rm -rf "$res"
	log "$abi: booting ($accel), suite $SUITE"
	t0=$SECONDS
	rc=0
	boot "$abi" "$dir" "$img" "$SUITE" "$res" "$accel" "$TIMEOUT" || rc=$?
	echo "$accel" >"$res/accel"
	log "$abi: qemu exit $rc after $((SECONDS - t0)) s"
	if [[ ! -f $res/done ]]; then
		log "$abi: the suite did not finish (timeout ${TIMEOUT}s or a crash); console tail:"
		tail -n 30 "$res/console.log" >&2
		FAILED=1
	fi
	if [[ -d $res/replay ]]; then
		python3 "$HERE/compare_replay.py" "$OUT/host/replay" "$res/replay" >"$res/replay-compare.txt" 2>&1 ||
			true
	fi
	sed 's/^/    /' "$res/results.tsv" >&2 2>/dev/null || true
done
python3 "$HERE/summary.py" "$OUT" "${ABIS[@]}" >"$OUT/summary.md" || FAILED=1
cat "$OUT/summary.md"
exit $FAILED
