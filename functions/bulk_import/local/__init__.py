"""The local stack: the real handlers over embedded moto, driven the way AWS would drive them."""
