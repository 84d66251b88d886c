"""Files: uploads, their content types and image sizes, attachment and the sweeps (PROTOCOL.md section 11)."""
