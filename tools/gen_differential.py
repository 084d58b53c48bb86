"""Differential cases: random shapes, axes, dtypes and parameters run through the real
TensorFlow 2.21.0 / Keras 3.15.1 / PyTorch 2.15.0, written in the golden format of
shared/tools/conform.py (outputs and the gradient of sum(output) w.r.t. the prediction).

usage: python tools/gen_differential.py SEED OUT.jsonl   (needs tensorflow-cpu, keras, torch, numpy)

tests/golden/generated/seed{1,2,3}.jsonl were made with this script, seeds 1-3, on the
project's build machine; tests/golden.rs runs them through the library.
"""
import json, sys, numpy as np, os
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
import tensorflow as tf, keras, torch
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv)>1 else 0)
cases=[]
def enc(a):
    a=np.asarray(a)
    dt={np.float32:"float32",np.float64:"float64",np.int32:"int32",np.int64:"int64"}[a.dtype.type]
    data=[ (("nan" if np.isnan(v) else ("inf" if v>0 else "-inf")) if (dt.startswith("float") and not np.isfinite(v)) else (float(v) if dt.startswith("float") else int(v))) for v in a.ravel()]
    return {"dtype":dt,"shape":list(a.shape),"data":data}
def add(id,op,params,inputs,grad,fn):
    # fn(inputs as dict of np arrays) -> (output np, {gradname: np})
    try:
        out,grads=fn(inputs)
        c={"id":id,"op":op,"params":params,"inputs":{k:enc(v) for k,v in inputs.items()},"grad":grad,"output":enc(out),"grads":{k:enc(v) for k,v in grads.items()},"truth64":None}
    except Exception as e:
        c={"id":id,"op":op,"params":params,"inputs":{k:enc(v) for k,v in inputs.items()},"grad":[],"error":type(e).__name__+": "+str(e)[:200]}
    cases.append(c)
def tfrun(f, inputs, wrt):
    ts={k:tf.Variable(v) if k==wrt else tf.constant(v) for k,v in inputs.items()}
    with tf.GradientTape() as tape:
        out=f(**ts)
        s=tf.reduce_sum(out)
    g=tape.gradient(s, ts[wrt]) if wrt else None
    return out.numpy(), ({wrt:g.numpy()} if wrt else {})
def thrun(f, inputs, wrt):
    ts={k:torch.tensor(v, requires_grad=(k==wrt)) for k,v in inputs.items()}
    out=f(**ts)
    if wrt:
        out.sum().backward()
        return out.detach().numpy(), {wrt:ts[wrt].grad.numpy()}
    return out.detach().numpy(), {}
def dt(): return rng.choice([np.float32,np.float64])
def shape(): 
    r=rng.integers(1,4)
    return tuple(int(x) for x in rng.integers(1,6,size=r))
def logits(s,d): return (rng.standard_normal(s)*3).astype(d)
def probs(s,d,axis=-1):
    p=rng.random(s)+0.05; return (p/p.sum(axis=axis,keepdims=True)).astype(d)
n=0
for it in range(12):
    d=dt(); s=shape(); ax=int(rng.integers(-len(s),len(s)))
    x=logits(s,d)
    add(f"sm{n}","tf.nn.softmax",{"axis":ax},{"logits":x},["logits"],lambda i: tfrun(lambda logits: tf.nn.softmax(logits,axis=ax),i,"logits")); n+=1
    add(f"lsm{n}","tf.nn.log_softmax",{"axis":ax},{"logits":x},["logits"],lambda i: tfrun(lambda logits: tf.nn.log_softmax(logits,axis=ax),i,"logits")); n+=1
    add(f"tsm{n}","torch.softmax",{"dim":ax},{"input":x},["input"],lambda i: thrun(lambda input: torch.softmax(input,ax),i,"input")); n+=1
    add(f"tlsm{n}","torch.log_softmax",{"dim":ax},{"input":x},["input"],lambda i: thrun(lambda input: torch.log_softmax(input,ax),i,"input")); n+=1
    t=probs(s,d,ax)
    add(f"sce{n}","tf.nn.softmax_cross_entropy_with_logits",{"axis":ax},{"labels":t,"logits":x},["logits"],lambda i: tfrun(lambda labels,logits: tf.nn.softmax_cross_entropy_with_logits(labels,logits,axis=ax),i,"logits")); n+=1
    for fl in [False, True]:
        ls=float(rng.choice([0.0,0.1,0.3]))
        p=x if fl else probs(s,d,ax)
        add(f"cce{n}","keras.losses.categorical_crossentropy",{"from_logits":fl,"label_smoothing":ls,"axis":ax},{"y_true":t,"y_pred":p},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.categorical_crossentropy(y_true,y_pred,from_logits=fl,label_smoothing=ls,axis=ax),i,"y_pred")); n+=1
        a,gm=float(rng.choice([0.25,0.5])),float(rng.choice([0.0,1.0,2.0]))
        add(f"cfce{n}","keras.losses.categorical_focal_crossentropy",{"alpha":a,"gamma":gm,"from_logits":fl,"label_smoothing":ls,"axis":ax},{"y_true":t,"y_pred":p},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.categorical_focal_crossentropy(y_true,y_pred,alpha=a,gamma=gm,from_logits=fl,label_smoothing=ls,axis=ax),i,"y_pred")); n+=1
        yb=(rng.random(s)>0.5).astype(d); pb=x if fl else (rng.random(s)*0.98+0.01).astype(d)
        add(f"bce{n}","keras.losses.binary_crossentropy",{"from_logits":fl,"label_smoothing":ls,"axis":ax},{"y_true":yb,"y_pred":pb},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.binary_crossentropy(y_true,y_pred,from_logits=fl,label_smoothing=ls,axis=ax),i,"y_pred")); n+=1
        bal=bool(rng.random()>0.5)
        add(f"bfce{n}","keras.losses.binary_focal_crossentropy",{"apply_class_balancing":bal,"alpha":a,"gamma":gm,"from_logits":fl,"label_smoothing":ls,"axis":ax},{"y_true":yb,"y_pred":pb},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.binary_focal_crossentropy(y_true,y_pred,apply_class_balancing=bal,alpha=a,gamma=gm,from_logits=fl,label_smoothing=ls,axis=ax),i,"y_pred")); n+=1
    # sparse (last axis)
    C=s[-1]; y=rng.integers(0,C,size=s[:-1]).astype(rng.choice([np.int32,np.int64]))
    add(f"ssce{n}","tf.nn.sparse_softmax_cross_entropy_with_logits",{},{"labels":y,"logits":x},["logits"],lambda i: tfrun(lambda labels,logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels,logits),i,"logits")); n+=1
    for fl in [False,True]:
        p=x if fl else probs(s,d)
        ig=None if rng.random()<0.5 else int(rng.integers(0,C))
        add(f"scce{n}","keras.losses.sparse_categorical_crossentropy",{"from_logits":fl,"ignore_class":ig},{"y_true":y.astype(np.int64),"y_pred":p},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.sparse_categorical_crossentropy(y_true,y_pred,from_logits=fl,ignore_class=ig),i,"y_pred")); n+=1
    xe=logits(s,d); z=rng.random(s).astype(d)
    add(f"sig{n}","tf.nn.sigmoid_cross_entropy_with_logits",{},{"labels":z,"logits":xe},["logits"],lambda i: tfrun(lambda labels,logits: tf.nn.sigmoid_cross_entropy_with_logits(labels,logits),i,"logits")); n+=1
    pw=float(rng.random()*3)
    add(f"wce{n}","tf.nn.weighted_cross_entropy_with_logits",{"pos_weight":pw},{"labels":z,"logits":xe},["logits"],lambda i: tfrun(lambda labels,logits: tf.nn.weighted_cross_entropy_with_logits(labels,logits,pw),i,"logits")); n+=1
    add(f"kl{n}","keras.losses.kl_divergence",{},{"y_true":probs(s,d),"y_pred":probs(s,d)},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.kl_divergence(y_true,y_pred),i,"y_pred")); n+=1
# torch CE family
for it in range(16):
    d=dt(); N=int(rng.integers(1,6)); C=int(rng.integers(2,6)); sp=tuple(int(v) for v in rng.integers(1,4,size=rng.integers(0,3)))
    x=logits((N,C)+sp,d)
    red=str(rng.choice(["mean","sum","none"])); ls=float(rng.choice([0.0,0.0,0.1,0.25])); ig=int(rng.choice([-100,0,1]))
    y=rng.integers(0,C,size=(N,)+sp).astype(np.int64)
    if rng.random()<0.3: y.ravel()[0]=ig if ig>=0 else -100
    w=(rng.random(C)+0.5).astype(d) if rng.random()<0.5 else None
    ins={"input":x,"target":y}; 
    if w is not None: ins["weight"]=w
    add(f"tce{n}","torch.nn.functional.cross_entropy",{"ignore_index":ig,"reduction":red,"label_smoothing":ls},ins,["input"],lambda i: thrun(lambda input,target,weight=None: torch.nn.functional.cross_entropy(input,target,weight=weight,ignore_index=ig,reduction=red,label_smoothing=ls),i,"input")); n+=1
    tp=probs((N,C)+sp,d,1); ins2={"input":x,"target":tp}
    if w is not None: ins2["weight"]=w
    add(f"tcep{n}","torch.nn.functional.cross_entropy",{"reduction":red,"label_smoothing":ls},ins2,["input"],lambda i: thrun(lambda input,target,weight=None: torch.nn.functional.cross_entropy(input,target,weight=weight,reduction=red,label_smoothing=ls),i,"input")); n+=1
    lp=torch.log_softmax(torch.tensor(x),1).numpy()
    ins3={"input":lp,"target":y}
    if w is not None: ins3["weight"]=w
    add(f"nll{n}","torch.nn.functional.nll_loss",{"ignore_index":ig,"reduction":red},ins3,["input"],lambda i: thrun(lambda input,target,weight=None: torch.nn.functional.nll_loss(input,target,weight=weight,ignore_index=ig,reduction=red),i,"input")); n+=1
    pb=(rng.random(x.shape)*0.98+0.01).astype(d); yb=rng.random(x.shape).astype(d)
    wb=(rng.random(x.shape[-1:])+0.5).astype(d) if rng.random()<0.5 else None
    ins4={"input":pb,"target":yb}
    if wb is not None: ins4["weight"]=wb
    add(f"bce{n}","torch.nn.functional.binary_cross_entropy",{"reduction":red},ins4,["input"],lambda i: thrun(lambda input,target,weight=None: torch.nn.functional.binary_cross_entropy(input,target,weight=weight,reduction=red),i,"input")); n+=1
    ins5={"input":x,"target":yb}
    if wb is not None: ins5["pos_weight"]=wb
    add(f"bcel{n}","torch.nn.functional.binary_cross_entropy_with_logits",{"reduction":red},ins5,["input"],lambda i: thrun(lambda input,target,pos_weight=None: torch.nn.functional.binary_cross_entropy_with_logits(input,target,pos_weight=pos_weight,reduction=red),i,"input")); n+=1
# keras classes
for it in range(10):
    N=int(rng.integers(1,6)); C=int(rng.integers(2,5)); d=np.float32
    red=str(rng.choice(["sum_over_batch_size","sum","none","mean_with_sample_weight"])); fl=bool(rng.random()<0.5); ls=float(rng.choice([0.0,0.1]))
    sw=(rng.random(N)).astype(d)
    t=probs((N,C),d); x=logits((N,C),d) if fl else probs((N,C),d)
    add(f"CCE{n}","keras.losses.CategoricalCrossentropy",{"from_logits":fl,"label_smoothing":ls,"reduction":red},{"y_true":t,"y_pred":x,"sample_weight":sw},["y_pred"],lambda i: tfrun(lambda y_true,y_pred,sample_weight: keras.losses.CategoricalCrossentropy(from_logits=fl,label_smoothing=ls,reduction=red)(y_true,y_pred,sample_weight=sample_weight),i,"y_pred")); n+=1
    y=rng.integers(0,C,size=N).astype(np.int64); ig=None if rng.random()<0.5 else int(rng.integers(0,C))
    add(f"SCCE{n}","keras.losses.SparseCategoricalCrossentropy",{"from_logits":fl,"ignore_class":ig,"reduction":red},{"y_true":y,"y_pred":x,"sample_weight":sw},["y_pred"],lambda i: tfrun(lambda y_true,y_pred,sample_weight: keras.losses.SparseCategoricalCrossentropy(from_logits=fl,ignore_class=ig,reduction=red)(y_true,y_pred,sample_weight=sample_weight),i,"y_pred")); n+=1
    yb=(rng.random((N,C))>0.5).astype(d); pb=logits((N,C),d) if fl else (rng.random((N,C))*0.98+0.01).astype(d)
    add(f"BCE{n}","keras.losses.BinaryCrossentropy",{"from_logits":fl,"label_smoothing":ls,"reduction":red},{"y_true":yb,"y_pred":pb,"sample_weight":sw},["y_pred"],lambda i: tfrun(lambda y_true,y_pred,sample_weight: keras.losses.BinaryCrossentropy(from_logits=fl,label_smoothing=ls,reduction=red)(y_true,y_pred,sample_weight=sample_weight),i,"y_pred")); n+=1
with open(sys.argv[2],"w") as f:
    for c in cases: f.write(json.dumps(c)+"\n")
print(len(cases), sum('error' in c for c in cases))
