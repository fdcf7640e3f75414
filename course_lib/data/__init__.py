"""Datasets: the real ones when cached or online, shipped substitutes offline (announced once)."""

from course_lib.data.images import IMAGE_NAMES, load_image, to_grayscale
from course_lib.data.mnist import DIGITS, MNIST, digits_to_mnist_images, load_mnist

__all__ = [
    "DIGITS",
    "IMAGE_NAMES",
    "MNIST",
    "digits_to_mnist_images",
    "load_image",
    "load_mnist",
    "to_grayscale",
]
