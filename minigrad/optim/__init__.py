"""``minigrad.optim``: optimizers with PyTorch's names, arguments and state-dict layout, and
learning-rate schedules in ``minigrad.optim.lr_scheduler``.

Each optimizer class holds hyperparameters and state; its update rule is a plain function on
arrays beside it (``sgd_update``, ``adam_update``, ``rmsprop_update``, ``adagrad_update``, ``adadelta_update``,
``adamax_update``, ``nadam_update``, ``radam_update``, ``adafactor_update``); LBFGS's two-loop recursion and
strong-Wolfe line search are functions on flat arrays in ``lbfgs.py``.
"""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .radam import RAdam  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .asgd import ASGD  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .adafactor import Adafactor  # noqa: F401
from .muon import Muon  # noqa: F401
from . import lr_scheduler  # noqa: F401
from . import swa_utils  # noqa: F401,E402  (AveragedModel, SWALR, update_bn)
