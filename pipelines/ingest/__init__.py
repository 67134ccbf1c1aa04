"""Files to staged frames: sheet decoding, header and layout detection, rows, cell parsing, prepare."""
