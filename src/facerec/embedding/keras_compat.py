"""Load Keras 2 era face models without executing code stored in the file.

facenet_keras.h5 (the widely shared Keras port of FaceNet's Inception-ResNet-v1) scales each
residual branch with ``Lambda(scaling, arguments={'scale': s})``.  Keras stores that function as
marshalled Python 3.6 bytecode, which Python 3.11 cannot run and which safe loading rightly refuses.
The only Lambda those files hold multiplies by ``scale``, so it is rebuilt here from its arguments.
"""
from __future__ import annotations


def legacy_custom_objects() -> dict:
    """custom_objects for keras.models.load_model that replace scale-only Lambda layers."""
    import keras

    class ScaleLambda(keras.layers.Layer):
        """Stands in for a stored Lambda whose only argument is 'scale': returns x * scale."""

        def __init__(self, function=None, output_shape=None, mask=None, arguments=None, **kwargs):
            super().__init__(**{k: v for k, v in kwargs.items() if k in ("name", "trainable", "dtype")})
            arguments = arguments or {}
            if set(arguments) != {"scale"}:
                raise ValueError(f"Lambda layer '{kwargs.get('name')}' holds Python code facerec will "
                                 "not run (only FaceNet's scale-only Lambda layers are rebuilt)")
            self.scale = float(arguments["scale"])

        def call(self, x, mask=None, **kwargs):
            return x * self.scale

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return dict(super().get_config(), arguments={"scale": self.scale})

    return {"Lambda": ScaleLambda}
