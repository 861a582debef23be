"""`tf.compat.v1.layers` for TF 2.16+ (gone with Keras 3).

These are the TF1 layer functions as tf_keras (the maintained Keras 2 line)
still ships them: variables are created through variable scopes, so names are
the v1 ones (`dense/kernel`, `dense_1/bias`, `my_scope/conv2d/kernel`) and
old checkpoints load by name. Batch-norm moving-average updates go to the
`UPDATE_OPS` collection as before.
"""
# pylint: disable=g-importing-member,unused-import
import tf_keras.api._v1.keras as _keras_v1

_legacy = _keras_v1.__internal__.legacy.layers

dense = _legacy.dense
dropout = _legacy.dropout
flatten = _legacy.flatten
batch_normalization = _legacy.batch_normalization
conv1d = _legacy.conv1d
conv2d = _legacy.conv2d
conv2d_transpose = _legacy.conv2d_transpose
conv3d = _legacy.conv3d
separable_conv1d = _legacy.separable_conv1d
separable_conv2d = _legacy.separable_conv2d
max_pooling1d = _legacy.max_pooling1d
max_pooling2d = _legacy.max_pooling2d
max_pooling3d = _legacy.max_pooling3d
average_pooling1d = _legacy.average_pooling1d
average_pooling2d = _legacy.average_pooling2d
average_pooling3d = _legacy.average_pooling3d

Layer = _legacy.Layer
InputSpec = _legacy.InputSpec
Dense = _legacy.Dense
Dropout = _legacy.Dropout
Flatten = _legacy.Flatten
BatchNormalization = _legacy.BatchNormalization
Conv1D = _legacy.Conv1D
Conv2D = _legacy.Conv2D
Conv2DTranspose = _legacy.Conv2DTranspose
Conv3D = _legacy.Conv3D
MaxPooling1D = _legacy.MaxPooling1D
MaxPooling2D = _legacy.MaxPooling2D
MaxPooling3D = _legacy.MaxPooling3D
AveragePooling1D = _legacy.AveragePooling1D
AveragePooling2D = _legacy.AveragePooling2D
AveragePooling3D = _legacy.AveragePooling3D
