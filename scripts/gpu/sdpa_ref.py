"""PyTorch's scaled_dot_product_attention at BERT / GPT-2 shapes ([b, 12, 128, 64] FP16, causal and
not), timed over 100 calls replayed as one CUDA graph: the reference for trt's attention kernels.
Run on the GPU machine: python3 scripts/gpu/sdpa_ref.py"""
import torch, torch.nn.functional as F
for b in (1, 16):
    q = torch.randn(b, 12, 128, 64, device="cuda", dtype=torch.half)
    for causal in (False, True):
        for _ in range(20): F.scaled_dot_product_attention(q, q, q, is_causal=causal)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(100): F.scaled_dot_product_attention(q, q, q, is_causal=causal)
        g.replay(); torch.cuda.synchronize()
        e0, e1 = torch.cuda.Event(True), torch.cuda.Event(True)
        e0.record(); g.replay(); e1.record(); torch.cuda.synchronize()
        print(f"torch sdpa b{b} causal={causal}: {e0.elapsed_time(e1) * 1000 / 100:.2f} us")
