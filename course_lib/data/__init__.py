"""Datasets: the real ones when cached or online, shipped substitutes offline (announced once)."""

from course_lib.data.body import BODY_PARTS, Body, make_body
from course_lib.data.images import IMAGE_NAMES, load_image, to_grayscale
from course_lib.data.meshes import MESH_NAMES, cylinder, load_cube, load_mesh
from course_lib.data.mnist import DIGITS, MNIST, digits_to_mnist_images, load_mnist
from course_lib.data.paired import PairedData, load_paired, make_facades
from course_lib.data.procedural import SHAPE_CLASSES, make_shapes_dataset
from course_lib.data.shapes3d import SHAPE_KINDS, MultiViewSet, make_multiview_set, make_shape
from course_lib.data.unpaired import (
    UnpairedDomains,
    load_horse2zebra,
    load_unpaired,
    make_fill_domains,
)

__all__ = [
    "UnpairedDomains",
    "load_horse2zebra",
    "load_unpaired",
    "make_fill_domains",
    "BODY_PARTS",
    "Body",
    "cylinder",
    "make_body",
    "DIGITS",
    "IMAGE_NAMES",
    "MESH_NAMES",
    "MNIST",
    "PairedData",
    "SHAPE_CLASSES",
    "SHAPE_KINDS",
    "MultiViewSet",
    "make_multiview_set",
    "make_shape",
    "digits_to_mnist_images",
    "load_cube",
    "load_image",
    "load_mesh",
    "load_mnist",
    "load_paired",
    "make_facades",
    "make_shapes_dataset",
    "to_grayscale",
]
