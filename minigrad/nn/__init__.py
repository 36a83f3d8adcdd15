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
from .conv_nd import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool3d, AvgPool1d, AvgPool3d, Conv3d,
    ConvTranspose1d, ConvTranspose3d, LPPool1d, LPPool2d, LPPool3d, MaxPool1d, MaxPool3d, MaxUnpool1d, MaxUnpool2d,
    MaxUnpool3d)
from .distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from .layers import (  # noqa: F401
    GELU, BatchNorm1d, Dropout, Dropout1d, Flatten, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid,
    Softmax, Softplus, Tanh, Unflatten)
from .loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, NLLLoss,
    PoissonNLLLoss, SmoothL1Loss, TripletMarginLoss)
from .misc import (  # noqa: F401
    CTCLoss, AlphaDropout, Bilinear, CosineEmbeddingLoss, Dropout3d, EmbeddingBag, FeatureAlphaDropout,
    GaussianNLLLoss, Hardshrink, HingeEmbeddingLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
    MultiMarginLoss, RReLU, Softmax2d, SoftMarginLoss, Softshrink, TripletMarginWithDistanceLoss)
from .lazy import (  # noqa: F401
    LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
    LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear)
from .module import Module  # noqa: F401
from .normalization import (  # noqa: F401
    BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LocalResponseNorm, RMSNorm)
from .parameter import Buffer, Parameter  # noqa: F401
from .parallel import DataParallel, SyncBatchNorm  # noqa: F401
from .resample import (  # noqa: F401
    ChannelShuffle, CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, Fold,
    PixelShuffle, PixelUnshuffle, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
    ReplicationPad2d, ReplicationPad3d, Unfold, UpsamplingBilinear2d, UpsamplingNearest2d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .transformer import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)
from . import modules  # noqa: E402,F401  (torch.nn.modules paths: last, it lists the layers above)
