# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from torch import Tensor
from torchvision.ops import roi_align

from mmclipself.registry import MODELS

#: OpenAI CLIP normalisation (used by EVA02-CLIP and the release too).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@MODELS.register_module()
class CLIPSelfDataPreprocessor(BaseDataPreprocessor):
    """Student images and teacher crops for CLIPSelf, batched on the device.

    Follows the release (reference facts §2) and paper §4.1:

    - student: the longest side resized to ``student_size`` (bicubic; 1024
      for B/16, 896 for L/14), CLIP mean/std, then zero padding at the
      bottom/right to a ``student_size`` square (paper: "we pad zero values
      ... after color normalization"); regions are scaled alike;
    - teacher: every crop region cut from the *original-resolution* image,
      its longest side resized to ``crop_size`` (224 / 336) and centred on a
      zero (black) square, then normalised. All crops of the batch come from
      one ``roi_align`` call on a square window around each box (adaptive
      sampling averages several samples per output pixel, like an
      anti-aliased resize) followed by a mask that blacks out what lies
      outside the box. No Python loop per box.

    Args:
        student_size: Side of the square student input. Defaults to 1024.
        crop_size: Side of the teacher crops. Defaults to 224.
        mean: Per-channel mean in [0, 1] (RGB).
        std: Per-channel std in [0, 1] (RGB).
        bgr_to_rgb: Inputs are BGR (mmcv's loader). Defaults to True.
        crop_sampling_ratio: ``roi_align`` samples per bin for crops; ``0``
            is adaptive. Defaults to 0.
        non_blocking: Asynchronous host-to-device copies.
    """

    def __init__(self,
                 student_size: int = 1024,
                 crop_size: int = 224,
                 mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD,
                 bgr_to_rgb: bool = True,
                 crop_sampling_ratio: int = 0,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        self.student_size = student_size
        self.crop_size = crop_size
        self.bgr_to_rgb = bgr_to_rgb
        self.crop_sampling_ratio = crop_sampling_ratio
        self.register_buffer(
            'mean', torch.tensor(mean).view(3, 1, 1) * 255., persistent=False)
        self.register_buffer(
            'std', torch.tensor(std).view(3, 1, 1) * 255., persistent=False)

    def _rgb_float(self, img: Tensor) -> Tensor:
        if img.dim() != 3 or img.shape[0] != 3 or min(img.shape[1:]) == 0:
            raise ValueError('expected a (3, H, W) image, got shape '
                             f'{tuple(img.shape)}')
        img = img.float()
        return img.flip(0) if self.bgr_to_rgb else img

    def student_batch(
            self,
            images: List[Tensor]) -> Tuple[Tensor, List[Tuple[float, float]]]:
        """Resize-longest, normalise and pad each image to the student size.

        Returns:
            The (B, 3, S, S) batch and per-image (x, y) scale factors.
        """
        size = self.student_size
        batch = images[0].new_zeros((len(images), 3, size, size),
                                    dtype=torch.float32)
        scales = []
        for i, img in enumerate(images):
            img = self._rgb_float(img)
            h, w = img.shape[1:]
            s = size / max(h, w)
            nh, nw = max(1, round(h * s)), max(1, round(w * s))
            img = F.interpolate(
                img[None],
                size=(nh, nw),
                mode='bicubic',
                align_corners=False,
                antialias=True)[0].clamp_(0, 255)
            batch[i, :, :nh, :nw] = (img - self.mean) / self.std
            scales.append((nw / w, nh / h))
        return batch, scales

    def teacher_crops(self, images: List[Tensor],
                      boxes: List[Tensor]) -> Tensor:
        """Crops of ``boxes`` (xyxy, original pixels) as (N, 3, C, C)."""
        c = self.crop_size
        hmax = max(img.shape[1] for img in images)
        wmax = max(img.shape[2] for img in images)
        canvas = images[0].new_zeros((len(images), 3, hmax, wmax),
                                     dtype=torch.float32)
        for i, img in enumerate(images):
            canvas[i, :, :img.shape[1], :img.shape[2]] = self._rgb_float(img)
        idx = torch.cat([
            torch.full((len(b), 1), i, dtype=torch.float32, device=b.device)
            for i, b in enumerate(boxes)
        ])
        boxes = torch.cat(boxes).float()
        wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1e-2)
        side = wh.max(dim=1).values
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        square = torch.cat(
            [centre - side[:, None] / 2, centre + side[:, None] / 2], dim=1)
        crops = roi_align(
            canvas,
            torch.cat([idx, square], dim=1),
            output_size=(c, c),
            spatial_scale=1.,
            sampling_ratio=self.crop_sampling_ratio,
            aligned=True)
        # the box fills a centred (round(h*c/side), round(w*c/side)) window
        new_wh = (wh * c / side[:, None]).round().clamp(1, c)
        start = ((c - new_wh) / 2).floor()
        ar = torch.arange(c, device=crops.device, dtype=torch.float32)
        inside_x = (ar >= start[:, :1]) & (ar < start[:, :1] + new_wh[:, :1])
        inside_y = (ar >= start[:, 1:]) & (ar < start[:, 1:] + new_wh[:, 1:])
        mask = inside_y[:, None, :, None] & inside_x[:, None, None, :]
        return (crops * mask - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> dict:
        """Build ``inputs = dict(images, crops, rois)`` from packed samples.

        ``rois`` are (N, 5) ``[batch index, x1, y1, x2, y2]`` in student
        pixels, in the order of the samples' ``regions``.
        """
        data = self.cast_data(data)
        images: Union[Tensor, List[Tensor]] = data['inputs']
        if isinstance(images, Tensor):
            images = list(images)
        samples = data['data_samples']
        if len(images) != len(samples):
            raise ValueError(f'{len(images)} images but {len(samples)} '
                             'data samples')
        student, scales = self.student_batch(images)
        rois = []
        for i, (sample, (sx, sy)) in enumerate(zip(samples, scales)):
            sample.set_metainfo(dict(scale_factor=(sx, sy)))
            scale = sample.regions.new_tensor([sx, sy, sx, sy])
            boxes = sample.regions.float() * scale
            rois.append(
                torch.cat([boxes.new_full((len(boxes), 1), i), boxes], dim=1))
        crops = self.teacher_crops(images, [s.crop_regions for s in samples])
        return dict(
            inputs=dict(images=student, crops=crops, rois=torch.cat(rois)),
            data_samples=samples)
