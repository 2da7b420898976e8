# The image every pipeline step runs in on Kubeflow Pipelines: TFX 1.16 plus this package.
# Build and push: see BUILD.md ("The pipeline image").
FROM tensorflow/tfx:1.16.0

WORKDIR /pipeline
COPY requirements.lock setup.py README.md ./
COPY munit_tf ./munit_tf
COPY pipeline ./pipeline
# The lock pins Keras 3 and everything else exactly as tested; TFX's image ships Keras 2 for tf.keras.
RUN python -m pip install --no-cache-dir -r requirements.lock && python -m pip install --no-cache-dir --no-deps .
# Our code always does `import keras` (Keras 3); do not force tf.keras to Keras 2 in our processes.
ENV TF_USE_LEGACY_KERAS=0
