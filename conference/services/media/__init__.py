"""Live media on the Janus WebRTC server: Django decides, Janus carries the media.

- `janus`: the admin API client (rooms, forwards, kicks go through it, never through a browser);
- `tokens`: the signed Janus tokens and handle labels minted per user per room;
- `stage`: a session's studio (backstage room) and its stage (what the audience receives);
- `config`: the settings of the media layer and the configuration `make run` gives its Janus.
"""
