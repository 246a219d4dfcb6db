# Keeps the parts of a cd-info report that a drive and the image it holds must agree on: the
# track rows up to the lead-out (whitespace squeezed), the MCN, the CD-TEXT and the filesystem
# analysis headline. Drops what only one side can know (driver, device and session probes,
# audio status) and what libcdio decides differently for an image and a device: the "Disc
# mode" line (for a device it is the control nibble of the full TOC's A0 entry, so a
# mixed-mode disc whose first track holds data reads "CD-DATA (Mode 1)"; for a sheet it
# looks at every track and says "CD-ROM Mixed") and the column headings (the image driver
# names a "Channels Premphasis?" column the device driver leaves unnamed; the rows carry
# the values either way). Run by the host on `cd-info --cue-file` and by the guest
# (busybox awk) on `cd-info /dev/srN`. A line of the analysis cd-info repeats per session it
# guesses is printed once.
function squeeze(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
/^CD-ROM Track List/ { list = 1; print squeeze($0); next }
list && /^ *#:/ { next }
list && /^170:/ { print squeeze($0); list = 0; next }
list { print squeeze($0); next }
/^Media Catalog Number/ || /^Language [0-9]/ { print squeeze($0); next }
/^CD-TEXT for / { text = 1; print squeeze($0); next }
text && /^\t/ { print "  " squeeze($0); next }
{ text = 0 }
(/^CD-ROM with / || /^ISO 9660: /) && !seen[$0]++ { print squeeze($0) }
