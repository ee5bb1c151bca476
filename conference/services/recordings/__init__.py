"""The recording pipeline: ingest, probe, transcode to HLS, publish, serve, capture."""
