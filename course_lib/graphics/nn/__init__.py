"""Neural-network layers on graphics data, laid out like TensorFlow Graphics' ``nn``."""
