"""Engine cases of the PyTorch peer, as bench/engine.ts: conv2d and BiLSTM forward + backward, matmul, and
the fixed cost of one tiny op."""
import torch


def conv2d(n=8, cin=16, h=80, w=64, cout=32, k=5):
    x = torch.randn(n, cin, h, w, requires_grad=True)
    weight = torch.randn(cout, cin, k, k, requires_grad=True)
    bias = torch.randn(cout, requires_grad=True)
    grad_out = torch.randn(n, cout, h, w)

    def step():
        y = torch.conv2d(x, weight, bias, 1, k // 2)
        y.backward(grad_out)
        for p in (x, weight, bias):
            p.grad = None

    return step


def matmul(size=1024):
    a, b = torch.randn(size, size), torch.randn(size, size)

    def step():  # timed under no_grad (the request's "grad": false)
        a.matmul(b)

    return step


def bilstm(batch=16, steps=128, input_size=161, hidden=64):
    bound = 1 / hidden ** 0.5
    uniform = lambda *shape: torch.empty(*shape).uniform_(-bound, bound).requires_grad_()
    params = [t for _ in range(2) for t in (uniform(4 * hidden, input_size), uniform(4 * hidden, hidden),
                                             uniform(4 * hidden), uniform(4 * hidden))]
    x = torch.randn(batch, steps, input_size, requires_grad=True)
    h0, c0 = torch.randn(2, batch, hidden), torch.randn(2, batch, hidden)
    grad_out = torch.randn(batch, steps, 2 * hidden)

    def step():
        output, _, _ = torch.lstm(x, (h0, c0), params, True, 1, 0.0, True, True, True)
        output.backward(grad_out)
        for p in [x, *params]:
            p.grad = None

    return step


def tiny_add():
    """torch.add of two 1-element tensors (timed under no_grad); the result is freed with its last reference."""
    a, b = torch.tensor([1.0]), torch.tensor([2.0])

    def step():
        torch.add(a, b)

    return step


CASES = {'conv2d': conv2d, 'matmul': matmul, 'bilstm': bilstm, 'tiny_add': tiny_add}
