# Reads `spindle drives --json` (pretty-printed, one key a line) and prints drive N's value of
# key K (a top-level key of the drive's object: device, sg, image, locked, medium...), without
# quotes; "null" when it has none. Run as: awk -v n=N -v k=KEY -f drives.awk
/^    \{/ { delete v; num = "" }
/^      "[a-z_]+": / {
  key = $1; gsub(/[":]/, "", key)
  val = $0; sub(/^      "[a-z_]+": /, "", val); sub(/,$/, "", val); gsub(/"/, "", val)
  v[key] = val
  if (key == "drive") num = val
}
/^    \}/ { if (num == n) print ((k in v) ? v[k] : "null") }
