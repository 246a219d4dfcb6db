# Keeps the parts of a cd-info report that a drive and the image it holds must agree on: the
# disc mode, the track list up to the lead-out row (whitespace squeezed), the MCN, the CD-TEXT
# and the filesystem analysis headline. Drops what only one side can know (driver, device and
# session probes, audio status). Run by the host on `cd-info --cue-file` and by the guest
# (busybox awk) on `cd-info /dev/srN`.
function squeeze(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
/^Disc mode is listed as:/ { print squeeze($0); next }
/^CD-ROM Track List/ { list = 1; print squeeze($0); next }
list && /^170:/ { print squeeze($0); list = 0; next }
list { print squeeze($0); next }
/^Media Catalog Number/ || /^Language [0-9]/ { print squeeze($0); next }
/^CD-TEXT for / { text = 1; print squeeze($0); next }
text && /^\t/ { print "  " squeeze($0); next }
{ text = 0 }
/^CD-ROM with / || /^ISO 9660: / { print squeeze($0) }
