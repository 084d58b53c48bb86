"""Edge-case differential cases (NaN / ±inf / huge / subnormal logits, empty batches,
all-ignored targets, error cases, one-hot variants) computed by the real TensorFlow 2.21.0 /
Keras 3.15.1 / PyTorch 2.15.0, in the golden format of shared/tools/conform.py.

usage: python tools/gen_differential_edge.py SEED OUT.jsonl
tests/golden/generated/edge5.jsonl and edge17.jsonl were made with seeds 5 and 17.
"""
import json, sys, os
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
sys.argv=[sys.argv[0], sys.argv[1], "/dev/null", sys.argv[2]]
exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_differential.py")).read().split("n=0\n")[0])  # its helpers
out=sys.argv[3]
n=0
SP=np.array([0.0, -np.inf, np.inf, np.nan, 1e30, -1e30, 88.0, -104.0, 1e-40])
def special(s,d):
    x=(rng.standard_normal(s)*3)
    m=rng.random(s)<0.3
    x[m]=rng.choice(SP,size=m.sum())
    return x.astype(d)
for it in range(10):
    d=dt(); s=shape(); x=special(s,d)
    add(f"e_sm{n}","tf.nn.softmax",{},{"logits":x},[],lambda i: tfrun(lambda logits: tf.nn.softmax(logits),i,None)); n+=1
    add(f"e_lsm{n}","tf.nn.log_softmax",{},{"logits":x},[],lambda i: tfrun(lambda logits: tf.nn.log_softmax(logits),i,None)); n+=1
    add(f"e_tsm{n}","torch.softmax",{"dim":-1},{"input":x},[],lambda i: thrun(lambda input: torch.softmax(input,-1),i,None)); n+=1
    add(f"e_sig{n}","tf.math.sigmoid",{},{"x":x},["x"],lambda i: tfrun(lambda x: tf.math.sigmoid(x),i,"x")); n+=1
    add(f"e_lsig{n}","tf.math.log_sigmoid",{},{"x":x},["x"],lambda i: tfrun(lambda x: tf.math.log_sigmoid(x),i,"x")); n+=1
    add(f"e_tsig{n}","torch.sigmoid",{},{"input":x},["input"],lambda i: thrun(lambda input: torch.sigmoid(input),i,"input")); n+=1
    add(f"e_tlsig{n}","torch.nn.functional.logsigmoid",{},{"input":x},["input"],lambda i: thrun(lambda input: torch.nn.functional.logsigmoid(input),i,"input")); n+=1
    C=s[-1]; y=rng.integers(0,C,size=s[:-1]).astype(np.int64)
    add(f"e_ssce{n}","tf.nn.sparse_softmax_cross_entropy_with_logits",{},{"labels":y,"logits":x},[],lambda i: tfrun(lambda labels,logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels,logits),i,None)); n+=1
    t=probs(s,d)
    add(f"e_sce{n}","tf.nn.softmax_cross_entropy_with_logits",{},{"labels":t,"logits":x},[],lambda i: tfrun(lambda labels,logits: tf.nn.softmax_cross_entropy_with_logits(labels,logits),i,None)); n+=1
    z=rng.random(s).astype(d)
    add(f"e_sigce{n}","tf.nn.sigmoid_cross_entropy_with_logits",{},{"labels":z,"logits":x},[],lambda i: tfrun(lambda labels,logits: tf.nn.sigmoid_cross_entropy_with_logits(labels,logits),i,None)); n+=1
    add(f"e_bcel{n}","torch.nn.functional.binary_cross_entropy_with_logits",{"reduction":"none"},{"input":x,"target":z},[],lambda i: thrun(lambda input,target: torch.nn.functional.binary_cross_entropy_with_logits(input,target,reduction="none"),i,None)); n+=1
    if len(s)>=2:
        xs=np.moveaxis(x,-1,1).copy(); ys=y
        add(f"e_tce{n}","torch.nn.functional.cross_entropy",{"reduction":"none"},{"input":xs,"target":ys},[],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target,reduction="none"),i,None)); n+=1
    for fl in [True, False]:
        p = x if fl else np.abs(x)
        add(f"e_cce{n}","keras.losses.categorical_crossentropy",{"from_logits":fl},{"y_true":t,"y_pred":p},[],lambda i: tfrun(lambda y_true,y_pred: keras.losses.categorical_crossentropy(y_true,y_pred,from_logits=fl),i,None)); n+=1
        pb = x if fl else np.clip(np.abs(x),0,1).astype(d)
        add(f"e_bce{n}","keras.losses.binary_crossentropy",{"from_logits":fl},{"y_true":z,"y_pred":pb},[],lambda i: tfrun(lambda y_true,y_pred: keras.losses.binary_crossentropy(y_true,y_pred,from_logits=fl),i,None)); n+=1
# empty batches
for d in [np.float32, np.float64]:
    x=np.zeros((0,4),d); y=np.zeros((0,),np.int64); t=np.zeros((0,4),d)
    add(f"z_sm{n}","tf.nn.softmax",{},{"logits":x},["logits"],lambda i: tfrun(lambda logits: tf.nn.softmax(logits),i,"logits")); n+=1
    add(f"z_ssce{n}","tf.nn.sparse_softmax_cross_entropy_with_logits",{},{"labels":y,"logits":x},["logits"],lambda i: tfrun(lambda labels,logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels,logits),i,"logits")); n+=1
    add(f"z_sce{n}","tf.nn.softmax_cross_entropy_with_logits",{},{"labels":t,"logits":x},["logits"],lambda i: tfrun(lambda labels,logits: tf.nn.softmax_cross_entropy_with_logits(labels,logits),i,"logits")); n+=1
    for red in ["mean","sum","none"]:
        add(f"z_tce{n}","torch.nn.functional.cross_entropy",{"reduction":red},{"input":x,"target":y},["input"],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target,reduction=red),i,"input")); n+=1
        add(f"z_tcep{n}","torch.nn.functional.cross_entropy",{"reduction":red},{"input":x,"target":t},["input"],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target,reduction=red),i,"input")); n+=1
        add(f"z_bce{n}","torch.nn.functional.binary_cross_entropy",{"reduction":red},{"input":t,"target":t},["input"],lambda i: thrun(lambda input,target: torch.nn.functional.binary_cross_entropy(input,target,reduction=red),i,"input")); n+=1
    for red in ["sum_over_batch_size","sum","none"]:
        add(f"z_CCE{n}","keras.losses.CategoricalCrossentropy",{"from_logits":True,"reduction":red},{"y_true":t,"y_pred":x},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.CategoricalCrossentropy(from_logits=True,reduction=red)(y_true,y_pred),i,"y_pred")); n+=1
        add(f"z_SCCE{n}","keras.losses.SparseCategoricalCrossentropy",{"from_logits":True,"reduction":red},{"y_true":y,"y_pred":x},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.SparseCategoricalCrossentropy(from_logits=True,reduction=red)(y_true,y_pred),i,"y_pred")); n+=1
# all ignored / ignore_class everywhere
x=logits((3,4),np.float32)
for red in ["mean","sum","none"]:
    for ls in [0.0,0.2]:
        add(f"i_tce{n}","torch.nn.functional.cross_entropy",{"reduction":red,"label_smoothing":ls},{"input":x,"target":np.full(3,-100,np.int64)},["input"],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target,reduction=red,label_smoothing=ls),i,"input")); n+=1
for red in ["sum_over_batch_size","sum","none"]:
    add(f"i_SCCE{n}","keras.losses.SparseCategoricalCrossentropy",{"from_logits":True,"ignore_class":-1,"reduction":red},{"y_true":np.full(3,-1,np.int64),"y_pred":x},["y_pred"],lambda i: tfrun(lambda y_true,y_pred: keras.losses.SparseCategoricalCrossentropy(from_logits=True,ignore_class=-1,reduction=red)(y_true,y_pred),i,"y_pred")); n+=1
# errors
y=np.array([0,4,1],np.int64)
add(f"x_ssce{n}","tf.nn.sparse_softmax_cross_entropy_with_logits",{},{"labels":y,"logits":x},[],lambda i: tfrun(lambda labels,logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels,logits),i,None)); n+=1
add(f"x_tce{n}","torch.nn.functional.cross_entropy",{},{"input":x,"target":y},[],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target),i,None)); n+=1
add(f"x_nll{n}","torch.nn.functional.nll_loss",{},{"input":x,"target":np.array([0,-1,1],np.int64)},[],lambda i: thrun(lambda input,target: torch.nn.functional.nll_loss(input,target),i,None)); n+=1
add(f"x_scce{n}","keras.losses.sparse_categorical_crossentropy",{"from_logits":True},{"y_true":y,"y_pred":x},[],lambda i: tfrun(lambda y_true,y_pred: keras.losses.sparse_categorical_crossentropy(y_true,y_pred,from_logits=True),i,None)); n+=1
add(f"x_bce{n}","torch.nn.functional.binary_cross_entropy",{},{"input":np.array([0.5,1.5],np.float32),"target":np.array([0.5,0.5],np.float32)},[],lambda i: thrun(lambda input,target: torch.nn.functional.binary_cross_entropy(input,target),i,None)); n+=1
add(f"x_bce2{n}","torch.nn.functional.binary_cross_entropy",{},{"input":np.array([0.5,0.5],np.float32),"target":np.array([0.5,-0.5],np.float32)},[],lambda i: thrun(lambda input,target: torch.nn.functional.binary_cross_entropy(input,target),i,None)); n+=1
add(f"x_tls{n}","torch.nn.functional.cross_entropy",{"label_smoothing":1.5},{"input":x,"target":np.array([0,1,2],np.int64)},[],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target,label_smoothing=1.5),i,None)); n+=1
add(f"x_tce3{n}","torch.nn.functional.cross_entropy",{},{"input":x,"target":np.array([0,1],np.int64)},[],lambda i: thrun(lambda input,target: torch.nn.functional.cross_entropy(input,target),i,None)); n+=1
add(f"x_bcel{n}","torch.nn.functional.binary_cross_entropy_with_logits",{},{"input":x,"target":x[:2]},[],lambda i: thrun(lambda input,target: torch.nn.functional.binary_cross_entropy_with_logits(input,target),i,None)); n+=1
add(f"x_sigce{n}","tf.nn.sigmoid_cross_entropy_with_logits",{},{"labels":x[:2],"logits":x},[],lambda i: tfrun(lambda labels,logits: tf.nn.sigmoid_cross_entropy_with_logits(labels,logits),i,None)); n+=1
add(f"x_cce{n}","keras.losses.categorical_crossentropy",{},{"y_true":x[:2],"y_pred":x},[],lambda i: tfrun(lambda y_true,y_pred: keras.losses.categorical_crossentropy(y_true,y_pred),i,None)); n+=1
# one_hot
for depth,on,off,axis in [(3,None,None,-1),(4,2.0,-1.0,0),(2,None,None,1),(0,None,None,-1)]:
    idx=rng.integers(-1,5,size=(2,3)).astype(np.int64)
    p={"depth":depth,"axis":axis}
    if on is not None: p["on_value"]=on; p["off_value"]=off
    add(f"o_tf{n}","tf.one_hot",p,{"indices":idx},[],lambda i: tfrun(lambda indices: tf.one_hot(indices,depth,on_value=on,off_value=off,axis=axis),i,None)); n+=1
for nc in [-1, 5, 7]:
    idx=rng.integers(0,5,size=(4,)).astype(np.int64)
    add(f"o_t{n}","torch.nn.functional.one_hot",{"num_classes":nc},{"input":idx},[],lambda i: thrun(lambda input: torch.nn.functional.one_hot(input,nc),i,None)); n+=1
with open(out,"w") as f:
    for c in cases: f.write(json.dumps(c)+"\n")
print(len(cases), sum('error' in c for c in cases))
