"""How each format's names lead back to the PyTorch module that made a tensor."""

from __future__ import annotations

import pytest

from edgebench.layerwise.readers import onnx_module, openvino_module, tflite_module

MODULES = frozenset({"relu", "layer1", "layer1.0", "layer1.0.relu", "layer1.0.conv1", "fc",
                     "features.1.0.block.0.2", "features.1.0.block.1.scale_activation"})


@pytest.mark.parametrize("name, module", [
    ("/relu/Relu_output_0", "relu"),
    ("/layer1/layer1.0/conv1/Conv_output_0", "layer1.0.conv1"),
    ("/layer1/layer1.0/relu_1/Relu_output_0", "layer1.0.relu"),  # the second call of relu
    ("/features/features.1/features.1.0/block/block.0/block.0.2/Mul_output_0", "features.1.0.block.0.2"),
    ("/fc/Gemm", "fc"),  # a node name
    ("output", ""),
    ("onnx::Conv_193", ""),
])
def test_onnx_scopes(name, module):
    assert onnx_module(name, MODULES) == module


@pytest.mark.parametrize("name, module", [
    ("__module.layer1.0.relu/aten::relu_/Relu", "layer1.0.relu"),
    ("__module.features.1.0.block.1.scale_activation/aten::sigmoid/Sigmoid",
     "features.1.0.block.1.scale_activation"),
    ("Multiply_5466", ""),
])
def test_openvino_friendly_names(name, module):
    assert openvino_module(name) == module


ROOT = "torchvision.models.resnet.ResNet"
BLOCK = f"{ROOT}/torch.nn.modules.container.Sequential_layer1/torchvision.models.resnet.BasicBlock_0"


@pytest.mark.parametrize("name, module", [
    (f"{ROOT}/torch.nn.modules.activation.ReLU_relu;;{ROOT}/torch.nn.modules.batchnorm.BatchNorm2d_bn1;2",
     "relu"),  # a fused op names the module whose output it is first
    (f"{BLOCK}/torch.nn.modules.activation.ReLU_relu;;{BLOCK};;{BLOCK}/torch.nn.modules.batchnorm.BatchNorm2d_bn2;",
     "layer1.0.relu"),
    ("torchvision.models.efficientnet.EfficientNet/torchvision.ops.misc.SqueezeExcitation_1/"
     "torch.nn.modules.activation.Sigmoid_scale_activation;", "1.scale_activation"),
    ("serving_default_args_0:0", ""),
])
def test_tflite_names(name, module):
    assert tflite_module(name) == module
