"""A family's stock processor without its video processor, for machines without torchvision.

Qwen2-VL / Qwen2.5-VL processors (image processor + tokenizer + video processor) build their video processor
unconditionally, and video processors need torchvision, so on a CPU machine without it the stock processor cannot be
constructed at all. No kept library offers an image-only variant, so this module derives one from the stock class:
same class name, same image-processor settings (PIL backend), tokenizer and chat template, and on save the same
files the stock processor writes (the checkpoint's video settings included), so a saved policy loads with the stock
class where torchvision is installed.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from transformers import ProcessorMixin
from trl import ModelConfig


if TYPE_CHECKING:
    from transformers import PretrainedConfig


class _WithoutVideo(ProcessorMixin):
    """Placed after a stock processor class in the MRO (``_image_only_class``): its ``video_processor`` is not a
    sub-processor, and ``to_dict`` writes back the checkpoint's own video settings (``source_video_processor``), so a
    saved processor is the stock one's files and loads with the stock class where torchvision is installed."""

    source_video_processor: dict | None = None

    @classmethod
    def get_attributes(cls):
        return [name for name in super().get_attributes() if name != "video_processor"]

    def __init__(self, *args, **kwargs):
        # The stock __init__ passes its sub-processors positionally in its own order, video processor included.
        kwargs.update(zip(ProcessorMixin.get_attributes.__func__(type(self)), args, strict=False))
        kwargs.pop("video_processor", None)
        super().__init__(**kwargs)

    def to_dict(self):
        output = super().to_dict()
        if self.source_video_processor is not None:
            output["video_processor"] = self.source_video_processor
        return output

    def __reduce__(self):  # the class is made at run time: pickled as the stock class it extends
        return _rebuild_image_only, (type(self).__bases__[0], self.__dict__)


def _rebuild_image_only(stock: type, state: dict) -> ProcessorMixin:
    processor = object.__new__(_image_only_class(stock))
    processor.__dict__.update(state)
    return processor


@functools.cache
def _image_only_class(stock: type) -> type:
    """``stock`` without its video processor; same class name, so saved files name the stock class."""
    return type(stock.__name__, (stock, _WithoutVideo), {"__module__": stock.__module__, "__doc__": stock.__doc__})


def image_only_processor(path_or_id: str, config: PretrainedConfig, model_args: ModelConfig) -> ProcessorMixin | None:
    """The family's processor without its video processor, when torchvision (which video processors need) is missing
    and the family's other sub-processors are its image processor and tokenizer; None otherwise.

    The image processor comes from the checkpoint's settings with the backend that needs no torchvision (PIL), the
    tokenizer and chat template as the stock processor loads them.
    """
    from transformers import AutoImageProcessor, AutoTokenizer
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING
    from transformers.utils import is_torchvision_available
    from transformers.video_processing_utils import BaseVideoProcessor

    stock = PROCESSOR_MAPPING.get(type(config), None) if not is_torchvision_available() else None
    if stock is None or sorted(stock.get_attributes()) != ["image_processor", "tokenizer", "video_processor"]:
        return None
    kwargs = {"revision": model_args.model_revision, "trust_remote_code": getattr(model_args, "trust_remote_code",
                                                                                  False)}
    cls = _image_only_class(stock)
    processor_dict, _ = cls.get_processor_dict(path_or_id, **kwargs)
    processor = cls.from_args_and_dict([], processor_dict, image_processor=AutoImageProcessor.from_pretrained(
        path_or_id, **kwargs), tokenizer=AutoTokenizer.from_pretrained(path_or_id, **kwargs))
    try:  # what the stock loader reads: the nested config, video_preprocessor_config.json or preprocessor_config.json
        processor.source_video_processor, _ = BaseVideoProcessor.get_video_processor_dict(path_or_id, **kwargs)
    except OSError:
        pass
    return processor
