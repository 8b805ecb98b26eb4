"""placeholder"""
def multisector_counterfactual(*a, **k):
    raise NotImplementedError
