# A security group open to the whole internet: trivy's AWS-0107 (HIGH).
resource "aws_security_group" "open" {
  name        = "open"
  description = "ssh from anywhere"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
