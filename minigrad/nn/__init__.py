"""``minigrad.nn``: modules, layers, losses (PyTorch's names, parameter names and layouts)."""
from . import functional, init, parallel, utils  # noqa: F401
from .activation import (  # noqa: F401
    CELU, ELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, SiLU, Softmin, Softsign,
    Tanhshrink, Threshold)
from .attention import MultiheadAttention  # noqa: F401
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from .conv import (  # noqa: F401
    AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d, Dropout2d,
    MaxPool2d, Upsample)
from .distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from .layers import (  # noqa: F401
    GELU, BatchNorm1d, Dropout, Dropout1d, Flatten, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid,
    Softmax, Softplus, Tanh, Unflatten, ZeroPad2d)
from .loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, NLLLoss,
    PoissonNLLLoss, SmoothL1Loss, TripletMarginLoss)
from .module import Module  # noqa: F401
from .normalization import (  # noqa: F401
    BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d, LocalResponseNorm, RMSNorm)
from .parameter import Parameter  # noqa: F401
from .parallel import SyncBatchNorm  # noqa: F401
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .transformer import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)
