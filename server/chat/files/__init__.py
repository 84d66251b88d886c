"""Files: uploads, their content types, image sizes and thumbnails (decoded in a worker of their
own), attachment and the sweeps (PROTOCOL.md section 11)."""
