"""The built-in modules. Each registers itself through the ``almacen.plugins`` entry-point
group, exactly as a third-party plugin does; the gateway names none of them."""
