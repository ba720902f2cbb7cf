"""The carriers most shops and the warehouse ship with; anything else is typed in."""

CARRIERS = (
    "顺丰速运",
    "中通快递",
    "圆通速递",
    "申通快递",
    "韵达快递",
    "极兔速递",
    "京东物流",
    "中国邮政EMS",
    "德邦快递",
)
