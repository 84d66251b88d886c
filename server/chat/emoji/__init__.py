"""Custom emoji (PROTOCOL.md section 13): added and removed by the workspace's owners and admins."""
