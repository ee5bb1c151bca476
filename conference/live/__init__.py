"""The live hall layer: one websocket per hall page, actions dispatched by name.

See docs/protocol.md for the wire protocol.
"""
