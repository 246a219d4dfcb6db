# Guest-side checks of an optical drive (/dev/srN) with the tools real programs use: libcdio's
# cd-info, systemd's cdrom_id, cdparanoia, sg3-utils, the kernel's mounts and dd. Sourced by the
# test script after /vmtest/lib.sh; the expected values are files under /data/expect/, made on
# the host (tests/optical/expect.rs). The same functions run against QEMU's own ATAPI drive and
# against spindle's TCMU drives: only the device changes.
E=/data/expect
CDROM_ID=/usr/lib/udev/cdrom_id
EJECT=/opt/util-linux/eject

# opt_lines OUTPUT EXPECTED: every line of EXPECTED is a whole line of OUTPUT.
opt_lines() {
  while read -r _l; do
    grep -qxF "$_l" "$1" || { echo "no line '$_l' in:"; cat "$1"; return 1; }
  done <"$2"
}

# opt_cdinfo DEV: cd-info's report, normalised, equals cd-info's on the image (cd.cdinfo).
opt_cdinfo() {
  cd-info --no-cddb --no-device-info "$1" >/tmp/cdinfo.txt 2>&1
  awk -f /data/cdinfo.awk /tmp/cdinfo.txt >/tmp/cdinfo.norm
  diff "$E/cd.cdinfo" /tmp/cdinfo.norm && return
  # What the drive answered to READ TOC format 5 (CD-TEXT packs), for the report.
  sg_raw -r 1024 -o /tmp/toc5.bin "$1" 43 02 05 00 00 00 00 04 00 00 >/dev/null 2>&1
  echo "READ TOC format 5:"; od -A d -t x1 /tmp/toc5.bin | head -n 24
  grep -i 'warn\|error\|cd-text' /tmp/cdinfo.txt | head -n 10
  return 1
}

# opt_cdrom_id DEV EXPECTED: cdrom_id prints every line of EXPECTED (ID_CDROM_MEDIA_*=...).
opt_cdrom_id() {
  "$CDROM_ID" "$1" >/tmp/cdrom_id.out 2>&1 || { cat /tmp/cdrom_id.out; return 1; }
  opt_lines /tmp/cdrom_id.out "$2"
}

# opt_no_media DEV: cdrom_id sees the drive but no medium.
opt_no_media() {
  "$CDROM_ID" "$1" >/tmp/cdrom_id.out 2>&1
  grep -qx ID_CDROM=1 /tmp/cdrom_id.out && ! grep -q '^ID_CDROM_MEDIA=' /tmp/cdrom_id.out \
    || { cat /tmp/cdrom_id.out; return 1; }
}

_sha() { sha256sum | cut -d' ' -f1; }

# opt_paranoia DEV: cdparanoia rips every audio track of cd.paranoia ("TRACK SECTORS SHA256")
# byte for byte.
opt_paranoia() {
  while read -r _t _k _sum; do
    rm -f /tmp/track.raw
    cdparanoia -q -d "$1" -r "$_t" /tmp/track.raw || { echo "cdparanoia failed on track $_t"; return 1; }
    _got=$(_sha </tmp/track.raw)
    [ "$_got" = "$_sum" ] || {
      echo "track $_t: $(wc -c </tmp/track.raw) bytes, sha256 $_got; want $((_k * 2352)) bytes, $_sum"
      return 1
    }
  done <"$E/cd.paranoia"
}

_be32() { printf '%02x %02x %02x %02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

# _readcd DEV LBA COUNT SUB OUT: READ CD (0xBE) of COUNT sectors, sync + headers + user data +
# EDC/ECC (byte 9 = 0xF8), subchannel selection SUB (0 none, 1 raw P-W, 2 formatted Q).
_readcd() {
  case $4 in 0) _per=2352 ;; 1) _per=2448 ;; 2) _per=2368 ;; esac
  sg_raw -r $(($3 * _per)) -o "$5" "$1" be 00 $(_be32 "$2") 00 00 "$(printf %02x "$3")" f8 "0$4" 00 \
    >/tmp/sg_raw.err 2>&1 || { cat /tmp/sg_raw.err; return 1; }
}

# opt_readcd SG: READ CD through sg_raw equals spindle's raw view (cd.readcd: LBA COUNT SUB SHA256).
opt_readcd() {
  _bad=0
  while read -r _lba _k _sub _sum; do
    _readcd "$1" "$_lba" "$_k" "$_sub" /tmp/readcd.bin || { echo "sg_raw READ CD $_lba+$_k sub $_sub failed"; _bad=1; continue; }
    _got=$(_sha </tmp/readcd.bin)
    [ "$_got" = "$_sum" ] || { echo "READ CD $_lba+$_k sub $_sub: $(wc -c </tmp/readcd.bin) bytes, $_got; want $_sum"; _bad=1; }
  done <"$E/cd.readcd"
  return $_bad
}

# opt_readcd_prefix SG: as opt_readcd for the data sectors, comparing only the sync pattern, the
# mode byte and the user data of each sector (cd.readcd-prefix: LBA COUNT SHA256): QEMU's drive
# leaves EDC/ECC zero and writes the header's address in binary, not BCD.
opt_readcd_prefix() {
  _bad=0
  while read -r _lba _k _sum; do
    _readcd "$1" "$_lba" "$_k" 0 /tmp/readcd.bin || { echo "sg_raw READ CD $_lba+$_k failed"; _bad=1; continue; }
    rm -f /tmp/heads.bin
    _i=0
    while [ $_i -lt "$_k" ]; do
      dd if=/tmp/readcd.bin bs=2352 skip=$_i count=1 2>/dev/null >/tmp/one.bin
      echo "sector $((_lba + _i)) header: $(head -c 16 /tmp/one.bin | od -A n -t x1)"
      { head -c 12 /tmp/one.bin; dd if=/tmp/one.bin bs=1 skip=15 count=2049 2>/dev/null; } >>/tmp/heads.bin
      _i=$((_i + 1))
    done
    _got=$(_sha </tmp/heads.bin)
    [ "$_got" = "$_sum" ] || { echo "READ CD $_lba+$_k heads: $_got; want $_sum"; _bad=1; }
  done <"$E/cd.readcd-prefix"
  return $_bad
}

# opt_isrc SG: READ SUB-CHANNEL format 3 gives each audio track's ISRC (cd.isrc: TRACK ISRC).
opt_isrc() {
  while read -r _t _code; do
    sg_raw -r 24 -o /tmp/isrc.bin "$1" 42 00 40 03 00 00 "$(printf %02x "$_t")" 00 18 00 \
      >/tmp/sg_raw.err 2>&1 || { cat /tmp/sg_raw.err; return 1; }
    _got=$(dd if=/tmp/isrc.bin bs=1 skip=9 count=12 2>/dev/null)
    [ "$_got" = "$_code" ] || { echo "track $_t: ISRC '$_got', want $_code"; od -A d -t x1 /tmp/isrc.bin; return 1; }
  done <"$E/cd.isrc"
}

# opt_inq SG VENDOR PRODUCT: sg_inq shows a CD/DVD device with that vendor and product.
opt_inq() {
  sg_inq "$1" >/tmp/inq.txt 2>&1 || { cat /tmp/inq.txt; return 1; }
  grep -q 'Peripheral device type: cd/dvd' /tmp/inq.txt \
    && grep -q "Vendor identification: $2" /tmp/inq.txt \
    && grep -q "Product identification: $3" /tmp/inq.txt || { cat /tmp/inq.txt; return 1; }
}

# opt_dd DEV EXPECTED: the first BLOCKS 2048-byte blocks of DEV hash as EXPECTED says
# ("BLOCKS SHA256").
opt_dd() {
  read -r _blocks _sum <"$2"
  _got=$(dd if="$1" bs=2048 count="$_blocks" 2>/dev/null | _sha)
  [ "$_got" = "$_sum" ] || { echo "$1: first $_blocks blocks hash $_got, want $_sum"; return 1; }
}

# opt_tree NAME DEV FSTYPE SUMS: mounts DEV read-only on /mnt, checks every file, unmounts.
opt_tree() {
  vmtest_check "$1-mount" mount -t "$3" -o ro "$2" /mnt
  vmtest_sums "$1-tree" / "$4"
  vmtest_check "$1-umount" umount /mnt
}

# optical_cd NAME DEV SG VENDOR PRODUCT: the mixed-mode CD on a drive that carries all of it.
# Checks NAME-{cdinfo,cdrom-id,isrc,paranoia,readcd,inq,dd,mount,tree,umount}.
optical_cd() {
  vmtest_check "$1-cdinfo" opt_cdinfo "$2"
  vmtest_check "$1-cdrom-id" opt_cdrom_id "$2" "$E/cd.cdrom_id"
  vmtest_check "$1-isrc" opt_isrc "$3"
  vmtest_check "$1-paranoia" opt_paranoia "$2"
  vmtest_check "$1-readcd" opt_readcd "$3"
  vmtest_check "$1-inq" opt_inq "$3" "$4" "$5"
  vmtest_check "$1-dd" opt_dd "$2" "$E/cd.data"
  opt_tree "$1" "$2" iso9660 "$E/cd.tree.sha256"
}

# optical_fs NAME DEV SG KIND FSTYPE VENDOR PRODUCT: a DVD or BD (KIND dvd or bd) with one
# filesystem. Checks NAME-{cdrom-id,inq,dd,mount,tree,umount}.
optical_fs() {
  vmtest_check "$1-cdrom-id" opt_cdrom_id "$2" "$E/$4.cdrom_id"
  vmtest_check "$1-inq" opt_inq "$3" "$6" "$7"
  vmtest_check "$1-dd" opt_dd "$2" "$E/$4.data"
  opt_tree "$1" "$2" "$5" "$E/$4.tree.sha256"
}

# drive_key N KEY: drive N's KEY from `spindle drives --json` (device, sg, image, locked...);
# a daemon that does not answer in 20 s gives nothing.
drive_key() { timeout 20 spindle drives --json | awk -v n="$1" -v k="$2" -f /data/drives.awk; }

# drive_is N KEY VALUE [SECONDS]: waits (default 5 s) until drive N's KEY is VALUE.
drive_is() {
  _end=$(($(date +%s) + ${4:-5}))
  while [ "$(drive_key "$1" "$2")" != "$3" ]; do
    [ "$(date +%s)" -gt $_end ] && { echo "drive $1 $2 is '$(drive_key "$1" "$2")', not '$3'"; return 1; }
    sleep 0.2
  done
}

# opt_gesn_eject SG: GET EVENT STATUS NOTIFICATION (polled, media class) reports an eject
# request (media event code 1).
opt_gesn_eject() {
  sg_raw -r 8 -o /tmp/gesn.bin "$1" 4a 01 00 00 10 00 00 00 08 00 >/tmp/sg_raw.err 2>&1 \
    || { cat /tmp/sg_raw.err; return 1; }
  _ev=$(od -A n -t u1 -j 4 -N 1 /tmp/gesn.bin | tr -d ' ')
  [ $((_ev & 15)) = 1 ] || { echo "GESN media event $_ev, want 1 (eject request):"; od -A d -t x1 /tmp/gesn.bin; return 1; }
}
