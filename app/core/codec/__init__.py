"""The learned codec: the transforms runner, entropy coding, and the context passes' streams.

The integer arithmetic they share with training's export checks lives in ``app.fixedpoint``."""
