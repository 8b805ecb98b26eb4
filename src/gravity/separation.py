"""placeholder"""
def drop_separated(md, methods, drop_singletons=True):
    return None
