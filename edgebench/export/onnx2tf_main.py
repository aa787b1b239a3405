"""onnx2tf's command line, run in onnx2tf's own environment (``python onnx2tf_main.py ARGS``):
it imports only tensorflow and onnx2tf, never edgebench.

onnx2tf converts its Keras model with ``TFLiteConverter.from_keras_model`` first, which saves
the model through Keras's legacy SavedModel serialisation: onnx2tf's layers hold their
weights as Python lists in their configs, which are deep-copied and JSON-encoded there, so a
ResNet-18 took about 50 s per TFLite file (and INT8 writes FP32 and FP16 first). When that
call fails, onnx2tf converts the model's concrete function instead, the path it already
takes for every quantised file: the same graph in seconds. This makes it fail.
"""

import os
import sys

# Python puts this file's folder first on the path, and it holds edgebench's own onnx2tf.py,
# which would shadow the onnx2tf package
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != HERE]

import tensorflow as tf  # noqa: E402


def _through_the_concrete_function(cls, model, *args, **kwargs):
    raise NotImplementedError("edgebench converts onnx2tf's concrete function")


tf.lite.TFLiteConverter.from_keras_model = classmethod(_through_the_concrete_function)

from onnx2tf.onnx2tf import main  # noqa: E402 - after the converter is redirected

if __name__ == "__main__":
    sys.argv[0] = "onnx2tf"
    sys.exit(main())
