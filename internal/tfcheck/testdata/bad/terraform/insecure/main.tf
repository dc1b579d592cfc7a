# The only resource here trivy judges: an ingress rule open to the world.
resource "aws_security_group_rule" "open" {
  type              = "ingress"
  description       = "SSH from anywhere"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "sg-12345678"
}
