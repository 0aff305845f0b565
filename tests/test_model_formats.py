"""Every model format a user can bring, built small here with FaceNet's tensor names."""
import numpy as np
import pytest

from facerec import FacerecError, load_embedder
from facerec.embedding.standardization import fixed, prewhiten

SIZE = 32  # small faces keep these models tiny; the loaders read the size from the model


def _faces(rng, n=5, size=SIZE):
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _l2(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def weights():
    r = np.random.default_rng(1)
    return dict(k=r.normal(0, 0.3, (3, 3, 3, 8)).astype(np.float32),
                b=r.normal(0, 0.1, (8,)).astype(np.float32),
                w=r.normal(0, 0.3, (8, 6)).astype(np.float32))


def _reference(x, wts):
    """What every test model computes, in NumPy: conv 3x3 valid, relu, global mean, dense, L2."""
    n, h, w, _ = x.shape
    out = np.zeros((n, h - 2, w - 2, 8), np.float32)
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("nhwc,cf->nhwf", x[:, dy:dy + h - 2, dx:dx + w - 2], wts["k"][dy, dx])
    out = np.maximum(out + wts["b"], 0).mean(axis=(1, 2))
    return _l2(out @ wts["w"])


def _tf_graph(tf, wts, variables):
    """FaceNet's interface: input:0 (N, S, S, 3), phase_train:0, embeddings:0 (L2-normalised)."""
    x = tf.compat.v1.placeholder(tf.float32, [None, SIZE, SIZE, 3], name="input")
    phase = tf.compat.v1.placeholder(tf.bool, name="phase_train")
    make = (lambda v, n: tf.compat.v1.Variable(v, name=n)) if variables else (lambda v, n: tf.constant(v, name=n))
    k, b, w = make(wts["k"], "k"), make(wts["b"], "b"), make(wts["w"], "w")
    y = tf.nn.relu(tf.nn.conv2d(x, k, 1, "VALID") + b)
    # phase_train switches dropout in FaceNet; here it must be fed False to give these numbers.
    y = tf.where(phase, y * 0.0, y)
    y = tf.reduce_mean(y, axis=[1, 2]) @ w
    return tf.nn.l2_normalize(y, 1, 1e-10, name="embeddings")


def _frozen_pb(tf, tmp_path, wts, name="facenet.pb", out_name="embeddings"):
    with tf.Graph().as_default() as g:
        emb = _tf_graph(tf, wts, variables=False)
        if out_name != "embeddings":
            tf.identity(emb, name=out_name)
    path = tmp_path / name
    path.write_bytes(g.as_graph_def().SerializeToString())
    return path


def test_frozen_graph_pb(tf, tmp_path, rng, weights):
    path = _frozen_pb(tf, tmp_path, weights)
    emb = load_embedder(path)
    faces = _faces(rng)
    assert emb.input_size == (SIZE, SIZE) and emb.dim == 6
    assert emb.standardization == "prewhiten" and emb.alignment.kind == "crop"
    np.testing.assert_allclose(emb.embed(faces), _reference(prewhiten(faces), weights), atol=1e-5)


def test_standardization_by_option_and_by_name(tf, tmp_path, rng, weights):
    faces = _faces(rng)
    emb = load_embedder(_frozen_pb(tf, tmp_path, weights), standardization="fixed")
    np.testing.assert_allclose(emb.embed(faces), _reference(fixed(faces), weights), atol=1e-5)
    # FaceNet's 20180402-114759 was trained with fixed standardisation: chosen from its name.
    named = load_embedder(_frozen_pb(tf, tmp_path, weights, name="20180402-114759.pb"))
    assert named.standardization == "fixed"


def test_checkpoint_folder(tf, tmp_path, rng, weights):
    folder = tmp_path / "20170512-110547"
    folder.mkdir()
    with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as sess:
        _tf_graph(tf, weights, variables=True)
        sess.run(tf.compat.v1.global_variables_initializer())
        saver = tf.compat.v1.train.Saver()
        saver.save(sess, str(folder / "model-20170512-110547.ckpt"), global_step=250000, write_meta_graph=False)
        saver.export_meta_graph(str(folder / "model-20170512-110547.meta"))
    emb = load_embedder(folder)
    faces = _faces(rng)
    np.testing.assert_allclose(emb.embed(faces), _reference(prewhiten(faces), weights), atol=1e-5)


def _keras_model(wts):
    import keras

    inp = keras.Input((SIZE, SIZE, 3))
    conv = keras.layers.Conv2D(8, 3, activation="relu")
    x = keras.layers.GlobalAveragePooling2D()(conv(inp))
    dense = keras.layers.Dense(6, use_bias=False)
    x = dense(x)
    x = keras.layers.UnitNormalization(name="embeddings")(x)
    model = keras.Model(inp, x)
    conv.set_weights([wts["k"], wts["b"]])
    dense.set_weights([wts["w"]])
    return model


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras_files(tmp_path, rng, weights, suffix):
    path = tmp_path / f"facenet_keras{suffix}"
    _keras_model(weights).save(path)
    emb = load_embedder(path)
    faces = _faces(rng)
    np.testing.assert_allclose(emb.embed(faces), _reference(prewhiten(faces), weights), atol=1e-5)


def test_keras2_facenet_scaling_lambda_is_rebuilt_not_executed(tmp_path, rng, weights):
    import keras

    def scaling(x, scale):
        return x * scale

    inp = keras.Input((SIZE, SIZE, 3))
    conv = keras.layers.Conv2D(8, 3, activation="relu")
    c = conv(inp)
    up = keras.layers.Lambda(scaling, arguments={"scale": 0.17})(c)
    x = keras.layers.Add()([c, up])
    dense = keras.layers.Dense(6, use_bias=False)
    x = dense(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, x)
    conv.set_weights([weights["k"], weights["b"]])
    dense.set_weights([weights["w"]])
    path = tmp_path / "facenet_keras.h5"
    model.save(path)
    emb = load_embedder(path)
    faces = _faces(rng)
    # c + 0.17 c = 1.17 c: after L2 normalisation the reference is unchanged.
    np.testing.assert_allclose(emb.embed(faces), _reference(prewhiten(faces), weights), atol=1e-5)


def test_saved_model(tf, tmp_path, rng, weights):
    model = _keras_model(weights)
    module = tf.Module()
    module.model = model
    module.f = tf.function(lambda images: {"embeddings": model(images)},
                           input_signature=[tf.TensorSpec([None, SIZE, SIZE, 3], tf.float32, name="images")])
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.f})
    emb = load_embedder(tmp_path / "sm")
    faces = _faces(rng)
    np.testing.assert_allclose(emb.embed(faces), _reference(prewhiten(faces), weights), atol=1e-5)


def test_tflite(tf, tmp_path, rng, weights):
    conv = tf.lite.TFLiteConverter.from_keras_model(_keras_model(weights))
    path = tmp_path / "facenet.tflite"
    path.write_bytes(conv.convert())
    emb = load_embedder(path)
    faces = _faces(rng, n=7)
    np.testing.assert_allclose(emb.embed(faces, batch_size=3), _reference(prewhiten(faces), weights), atol=1e-5)


# --- bad input: one clear message naming the file and what was expected -----------------

def test_missing_path(tmp_path):
    with pytest.raises(FacerecError, match="no such model"):
        load_embedder(tmp_path / "nope.pb")


@pytest.mark.parametrize("name", ["junk.pb", "junk.h5", "junk.keras", "junk.tflite", "junk.dat"])
def test_file_that_is_not_a_model(tmp_path, name):
    path = tmp_path / name
    path.write_text("this is not a model\n")
    with pytest.raises(FacerecError, match=name.replace(".", r"\.")):
        load_embedder(path)


def test_unknown_extension(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(FacerecError, match="not a model file"):
        load_embedder(path)


def test_graph_without_facenet_tensors(tf, tmp_path, weights):
    path = _frozen_pb(tf, tmp_path, weights, out_name="features")
    # Rename: drop the embeddings node so only 'features' remains.
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(path.read_bytes())
    for node in gd.node:
        if node.name == "embeddings":
            node.name = "embeddings_renamed"
        node.input[:] = ["embeddings_renamed" if i == "embeddings" else i for i in node.input]
    path.write_bytes(gd.SerializeToString())
    with pytest.raises(FacerecError, match="embeddings:0"):
        load_embedder(path)


def test_other_input_size_is_refused(tf, tmp_path, weights, rng):
    path = _frozen_pb(tf, tmp_path, weights)
    with pytest.raises(FacerecError, match=f"{SIZE}x{SIZE}.*160x160"):
        load_embedder(path, image_size=160)
    emb = load_embedder(path)
    with pytest.raises(FacerecError, match="takes 32x32 faces, got 160x160"):
        emb.embed(_faces(rng, size=160))


def test_folder_without_model(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(FacerecError, match="folder holds no model"):
        load_embedder(tmp_path)


def test_unknown_standardization():
    with pytest.raises(FacerecError, match="unknown standardization"):
        load_embedder("default", standardization="zscore")
