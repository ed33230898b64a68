"""The residents' channel: report from the alley's QR code, follow the case, give feedback, see the public board."""
