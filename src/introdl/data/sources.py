"""Where each downloadable dataset's files live, with the checksums their publishers gave.

Provenance of every checksum (never computed from a download of ours):

- MNIST, Fashion-MNIST, CIFAR-10, SVHN: URL, size and SHA-256 from TensorFlow
  Datasets' ``tensorflow_datasets/url_checksums/{mnist,fashion_mnist,cifar10,svhn_cropped}.txt``.
- Fashion-MNIST as Debian packages it (``dataset-fashion-mnist``): the ``.gz`` files are
  re-compressed (no file name in the gzip header, hence 23-24 bytes shorter), so their
  SHA-256 differ from upstream's. The values below were computed from the installed
  files after ``dpkg``'s own MD5 list (``/var/lib/dpkg/info/dataset-fashion-mnist.md5sums``)
  confirmed them; they are accepted as ``alt_sha256``.
- USPS: no SHA-256 is published anywhere we could find; torchvision's ``USPS`` class
  publishes MD5 values, used here (see docs/data.md).
"""

from __future__ import annotations

from introdl.data.download import RemoteFile

_MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_USPS_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"
_SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"

MNIST = {
    "train-images": RemoteFile(
        _MNIST_URL + "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-images-idx3-ubyte.gz", 9912422),
    "train-labels": RemoteFile(
        _MNIST_URL + "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "train-labels-idx1-ubyte.gz", 28881),
    "test-images": RemoteFile(
        _MNIST_URL + "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-images-idx3-ubyte.gz", 1648877),
    "test-labels": RemoteFile(
        _MNIST_URL + "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "t10k-labels-idx1-ubyte.gz", 4542),
}

FASHION_MNIST = {
    "train-images": RemoteFile(
        _FASHION_URL + "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-images-idx3-ubyte.gz", 26421880,
        alt_sha256=("b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",)),
    "train-labels": RemoteFile(
        _FASHION_URL + "train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "train-labels-idx1-ubyte.gz", 29515,
        alt_sha256=("0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",)),
    "test-images": RemoteFile(
        _FASHION_URL + "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-images-idx3-ubyte.gz", 4422102,
        alt_sha256=("cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",)),
    "test-labels": RemoteFile(
        _FASHION_URL + "t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "t10k-labels-idx1-ubyte.gz", 5148,
        alt_sha256=("8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",)),
}

USPS = {
    "train": RemoteFile(_USPS_URL + "usps.bz2", None, "usps.bz2",
                        md5="ec16c51db3855ca6c91edd34d0e9b197"),
    "test": RemoteFile(_USPS_URL + "usps.t.bz2", None, "usps.t.bz2",
                       md5="8ea070ee2aca1ac39742fdd1ef5ed118"),
}

SVHN = {
    "train": RemoteFile(
        _SVHN_URL + "train_32x32.mat",
        "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8",
        "train_32x32.mat", 182040794),
    "test": RemoteFile(
        _SVHN_URL + "test_32x32.mat",
        "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b",
        "test_32x32.mat", 64275384),
}

CIFAR10 = {
    # The "binary version": plain bytes, so loading it never unpickles anything.
    "archive": RemoteFile(
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        "cifar-10-binary.tar.gz", 170052171),
}
